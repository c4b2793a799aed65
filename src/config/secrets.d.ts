// Secrets are not in wrangler.toml, so `wrangler types` cannot see them; they are
// declared here and validated at runtime by ApiEnvSchema (src/config/env.ts).
interface Env {
  PLATFORM_ADMIN_KEY: string;
  JWT_SIGNING_KEYS: string;
}
