import { generateKeyPairSync, randomBytes } from "node:crypto";
import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Test-only secrets, generated per run and never written to disk.
function signingJwk(kid: string) {
  const { privateKey } = generateKeyPairSync("ed25519");
  return { ...privateKey.export({ format: "jwk" }), kid };
}

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  const activeKey = signingJwk("test-active");
  const previousKey = signingJwk("test-previous");
  return {
    plugins: [
      cloudflareTest({
        main: "./workers/api/index.ts",
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            ENVIRONMENT: "test",
            PLATFORM_ADMIN_KEY: randomBytes(32).toString("base64url"),
            JWT_SIGNING_KEYS: JSON.stringify([activeKey, previousKey]),
            TICKET_SIGNING_KEYS: JSON.stringify([signingJwk("ticket-test")]),
            PAYMENT_WEBHOOK_SECRET: `whsec_${randomBytes(30).toString("base64url")}`,
            TEST_MIGRATIONS: migrations,
          },
        },
      }),
    ],
    test: {
      setupFiles: ["./test/setup.ts"],
      include: ["test/**/*.test.ts"],
      testTimeout: 30_000,
      hookTimeout: 30_000,
    },
  };
});
