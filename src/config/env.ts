import { z } from "zod";
import type { EventInventory } from "../../durable-objects/event-inventory";
import type { RateLimiter } from "../../durable-objects/rate-limiter";

/**
 * The API worker's configuration, validated once per isolate on every entry point
 * (fetch, scheduled, queue, Durable Object constructor). A missing or malformed
 * variable, secret or binding fails loudly with every offending name listed,
 * instead of surfacing later as an undefined deep inside a request.
 */

const binding = <T>(name: string, method: string) =>
  z.custom<T>(
    (v) => typeof v === "object" && v !== null && typeof (v as Record<string, unknown>)[method] === "function",
    { message: `binding ${name} is missing or is not a ${method}()-capable binding` },
  );

const positiveIntString = z.coerce.number().int().positive();

const signingJwk = z
  .object({
    kty: z.literal("OKP"),
    crv: z.literal("Ed25519"),
    kid: z.string().min(1).max(64),
    x: z.string().min(40),
    d: z.string().min(40),
  })
  .loose();

const signingKeys = z
  .string()
  .transform((raw, ctx) => {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      ctx.addIssue({ code: "custom", message: "JWT_SIGNING_KEYS is not valid JSON" });
      return z.NEVER;
    }
  })
  .pipe(z.array(signingJwk).min(1, "JWT_SIGNING_KEYS needs at least one key"))
  .refine((keys) => new Set(keys.map((k) => k.kid)).size === keys.length, "JWT_SIGNING_KEYS has duplicate kid values");

export const ApiEnvSchema = z.object({
  ENVIRONMENT: z.enum(["local", "test", "staging", "production"]),
  JWT_ISSUER: z.string().url(),
  JWT_AUDIENCE: z.string().min(1),
  ACCESS_TOKEN_TTL_SECONDS: positiveIntString.max(3600),
  REFRESH_TOKEN_TTL_SECONDS: positiveIntString.max(90 * 24 * 3600),
  CORS_ORIGINS: z.string().transform((s) =>
    s
      .split(",")
      .map((o) => o.trim())
      .filter(Boolean),
  ),
  MAX_BODY_BYTES: positiveIntString.max(10 * 1024 * 1024),
  /** How long a hold keeps its seats before the DO's alarm gives them back. */
  HOLD_TTL_SECONDS: positiveIntString.min(60).max(3600),
  EMAIL_DELIVERY: z.enum(["sink", "log"]),
  PUBLIC_APP_URL: z.string().url(),
  PLATFORM_ADMIN_KEY: z.string().min(32, "PLATFORM_ADMIN_KEY must be at least 32 characters"),
  JWT_SIGNING_KEYS: signingKeys,
  DB: binding<D1Database>("DB", "prepare"),
  RATE_LIMITER: binding<DurableObjectNamespace<RateLimiter>>("RATE_LIMITER", "idFromName"),
  EVENT_INVENTORY: binding<DurableObjectNamespace<EventInventory>>("EVENT_INVENTORY", "idFromName"),
  NOTIFICATIONS: binding<Queue>("NOTIFICATIONS", "send"),
});

export type ApiConfig = z.infer<typeof ApiEnvSchema>;
export type SigningJwk = z.infer<typeof signingJwk>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration: ${problems.join("; ")}`);
    this.name = "ConfigError";
  }
}

const cache = new WeakMap<object, ApiConfig>();

/** Parse and cache; throws ConfigError naming every missing or invalid entry. */
export function loadConfig(env: object): ApiConfig {
  const hit = cache.get(env);
  if (hit) return hit;
  const parsed = ApiEnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const name = i.path.join(".") || "(env)";
      return i.code === "invalid_type" && i.input === undefined ? `${name} is missing` : `${name}: ${i.message}`;
    });
    throw new ConfigError(problems);
  }
  cache.set(env, parsed.data);
  return parsed.data;
}
