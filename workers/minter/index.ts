import { Hono } from "hono";
import { requestId, type RequestIdVariables } from "hono/request-id";
// zod/mini: the same validation as the API's zod, at a tenth of the bundle (24 KiB gzip in all).
import * as z from "zod/mini";
import { AppError } from "../../src/http/errors";
import { problemResponse } from "../../src/http/problem";
import { handleMintBatch } from "./queue";

/**
 * boxoffice-minter: mints Solana cNFT tickets. Today it claims one `mints` row per sold
 * ticket from the mint queue (the Solana side arrives in a later issue), answers
 * GET /health/live, and RFC 9457 problems for the rest, rendered by the same catalogue as
 * the API so clients see one error shape.
 */

const MinterEnvSchema = z.object({
  ENVIRONMENT: z.enum(["local", "test", "staging", "production"]),
  DB: z.custom<D1Database>((v) => typeof v === "object" && v !== null && typeof (v as D1Database).prepare === "function", "binding DB is missing"),
});

/** Bindings as wrangler hands them to the worker (before validation). */
export interface MinterBindings {
  ENVIRONMENT: string;
  DB: D1Database;
}
export type MinterConfig = z.infer<typeof MinterEnvSchema>;

export class MinterConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`boxoffice-minter: invalid configuration: ${problems.join("; ")}`);
    this.name = "MinterConfigError";
  }
}

let config: MinterConfig | undefined;

/** Validated once per isolate; throws MinterConfigError naming every missing or invalid var. */
export function loadMinterConfig(env: unknown): MinterConfig {
  if (config) return config;
  const raw = (env ?? {}) as Record<string, unknown>;
  const parsed = MinterEnvSchema.safeParse(raw);
  if (!parsed.success) {
    throw new MinterConfigError(
      parsed.error.issues.map((i) => {
        const name = i.path.join(".") || "(env)";
        if (raw[String(i.path[0])] === undefined) return `${name} is missing`;
        if (i.code === "invalid_value") return `${name} must be one of ${i.values.join(", ")}`;
        return `${name}: ${i.message}`;
      }),
    );
  }
  config = parsed.data;
  return config;
}

const app = new Hono<{ Bindings: MinterBindings; Variables: RequestIdVariables }>();

app.use(requestId());
app.use(async (c, next) => {
  loadMinterConfig(c.env);
  await next();
});

app.get("/health/live", (c) => c.json({ status: "ok", service: "minter" }));

app.notFound((c) => problemResponse(c, new AppError("NOT_FOUND")));

app.onError((err, c) => {
  if (err instanceof AppError) return problemResponse(c, err);
  console.error(err);
  return problemResponse(c, new AppError(err instanceof MinterConfigError ? "CONFIG_INVALID" : "INTERNAL"));
});

export default {
  fetch: app.fetch,
  queue: (batch, env) => handleMintBatch(batch, loadMinterConfig(env).DB),
} satisfies ExportedHandler<MinterBindings>;
