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
      ctx.addIssue({ code: "custom", message: "not valid JSON" });
      return z.NEVER;
    }
  })
  .pipe(z.array(signingJwk).min(1, "needs at least one key"))
  .refine((keys) => new Set(keys.map((k) => k.kid)).size === keys.length, "has duplicate kid values");

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
  /** Hold attempts per minute per buyer account and per client address (src/fraud, ADR 0009). */
  HOLD_LIMIT_PER_ACCOUNT_PER_MINUTE: positiveIntString.max(10_000).default(20),
  HOLD_LIMIT_PER_IP_PER_MINUTE: positiveIntString.max(100_000).default(60),
  /** How long an order that costs money waits for its payment before its seats go back on sale. */
  PAYMENT_TTL_SECONDS: positiveIntString.min(60).max(24 * 3600),
  /** `local` confirms payments through the same signed webhook path, without a network (development, tests). */
  PAYMENT_PROVIDER: z.enum(["stripe", "local"]),
  /** Stripe's API base URL; only tests and proxies change it. */
  STRIPE_API_BASE: z.string().url().default("https://api.stripe.com"),
  /** Secret API key (sk_...); required when PAYMENT_PROVIDER is stripe. */
  STRIPE_SECRET_KEY: z.string().min(1).optional(),
  /** The webhook endpoint's signing secret (whsec_...); the local provider signs with it too. */
  PAYMENT_WEBHOOK_SECRET: z.string().min(24, "PAYMENT_WEBHOOK_SECRET must be at least 24 characters"),
  /** Ed25519 keys that sign ticket codes (same format as JWT_SIGNING_KEYS; the first signs). */
  TICKET_SIGNING_KEYS: signingKeys.refine(
    (keys) => keys.every((k) => k.kid.length <= 32),
    "kid values must be at most 32 characters (the kid is in every ticket code; codes stay under 300 characters)",
  ),
  EMAIL_DELIVERY: z.enum(["sink", "log"]),
  PUBLIC_APP_URL: z.string().url(),
  PLATFORM_ADMIN_KEY: z.string().min(32, "PLATFORM_ADMIN_KEY must be at least 32 characters"),
  JWT_SIGNING_KEYS: signingKeys,
  DB: binding<D1Database>("DB", "prepare"),
  RATE_LIMITER: binding<DurableObjectNamespace<RateLimiter>>("RATE_LIMITER", "idFromName"),
  EVENT_INVENTORY: binding<DurableObjectNamespace<EventInventory>>("EVENT_INVENTORY", "idFromName"),
  NOTIFICATIONS: binding<Queue>("NOTIFICATIONS", "send"),
  MINT_QUEUE: binding<Queue>("MINT_QUEUE", "sendBatch"),
})
  .refine((c) => c.PAYMENT_PROVIDER !== "stripe" || c.STRIPE_SECRET_KEY !== undefined, {
    path: ["STRIPE_SECRET_KEY"],
    message: "STRIPE_SECRET_KEY is missing (required when PAYMENT_PROVIDER is stripe)",
  })
  .refine((c) => c.ENVIRONMENT !== "production" || c.PAYMENT_PROVIDER === "stripe", {
    path: ["PAYMENT_PROVIDER"],
    message: "production takes real payments: PAYMENT_PROVIDER must be stripe",
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
