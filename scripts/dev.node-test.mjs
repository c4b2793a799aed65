// Tests for the dev scripts, on Node's own runner (not vitest, whose pool runs in workerd):
//   npm run test:scripts
import assert from "node:assert/strict";
import { createPrivateKey, createPublicKey, sign, verify } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { parseEnv } from "node:util";
import { banner, seedOutcome, seedRequestBody } from "./dev.mjs";
import { ensureDevVars, generateSigningJwk } from "./dev-vars.mjs";

const dir = mkdtempSync(join(tmpdir(), "boxoffice-devvars-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("ensureDevVars creates a complete, private .dev.vars", () => {
  const path = join(dir, "fresh.dev.vars");
  const { created, added, vars } = ensureDevVars(path);
  assert.equal(created, true);
  assert.deepEqual(added, ["PLATFORM_ADMIN_KEY", "JWT_SIGNING_KEYS", "DEMO_OWNER_PASSWORD", "TICKET_SIGNING_KEYS", "PAYMENT_WEBHOOK_SECRET"]);
  assert.match(vars.PAYMENT_WEBHOOK_SECRET, /^whsec_[A-Za-z0-9_-]{40}$/);
  assert.equal(JSON.parse(vars.TICKET_SIGNING_KEYS)[0].kid.length <= 32, true);
  assert.match(vars.PLATFORM_ADMIN_KEY, /^[A-Za-z0-9_-]{48}$/);
  assert.ok(vars.DEMO_OWNER_PASSWORD.length >= 20);
  assert.doesNotMatch(vars.DEMO_OWNER_PASSWORD, /owner/i);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.match(readFileSync(path, "utf8"), /^JWT_SIGNING_KEYS='\[\{"kty":"OKP".*\}\]'$/m);

  const keys = JSON.parse(vars.JWT_SIGNING_KEYS);
  assert.equal(keys.length, 1);
  assert.deepEqual(Object.keys(keys[0]).sort(), ["crv", "d", "kid", "kty", "x"]);
  assert.match(keys[0].kid, /^k-\d{4}-\d{2}-\d{2}-[0-9a-f]{8}$/);
  // The JWK is a working Ed25519 key pair.
  const data = Buffer.from("boxoffice");
  const sig = sign(null, data, createPrivateKey({ key: keys[0], format: "jwk" }));
  const { kty, crv, x } = keys[0];
  assert.ok(verify(null, data, createPublicKey({ key: { kty, crv, x }, format: "jwk" }), sig));
});

test("ensureDevVars keeps existing values and appends only missing names", () => {
  const path = join(dir, "partial.dev.vars");
  writeFileSync(path, "# mine\nPLATFORM_ADMIN_KEY=keep-me-keep-me-keep-me-keep-me-keep-me\nOTHER=1"); // no final newline
  const first = ensureDevVars(path);
  assert.equal(first.created, false);
  assert.deepEqual(first.added, ["JWT_SIGNING_KEYS", "DEMO_OWNER_PASSWORD", "TICKET_SIGNING_KEYS", "PAYMENT_WEBHOOK_SECRET"]);
  assert.equal(first.vars.PLATFORM_ADMIN_KEY, "keep-me-keep-me-keep-me-keep-me-keep-me");
  assert.equal(first.vars.OTHER, "1");
  const text = readFileSync(path, "utf8");
  const again = ensureDevVars(path);
  assert.deepEqual(again.added, []);
  assert.equal(readFileSync(path, "utf8"), text);
  assert.deepEqual(parseEnv(text), again.vars);
});

test("generateSigningJwk gives distinct kids", () => {
  assert.notEqual(generateSigningJwk().kid, generateSigningJwk().kid);
});

test("seedOutcome: 201 created, 409 TENANT_SLUG_TAKEN fine, anything else fails", () => {
  assert.deepEqual(seedOutcome(201, { id: "t_1" }), { ok: true, state: "created" });
  assert.deepEqual(seedOutcome(409, { code: "TENANT_SLUG_TAKEN" }), { ok: true, state: "already seeded" });
  const conflict = seedOutcome(409, { code: "CONFLICT" });
  assert.equal(conflict.ok, false);
  assert.match(conflict.detail, /"CONFLICT"/);
  assert.equal(seedOutcome(502, "Bad Gateway").detail, "Bad Gateway");
});

test("seed body and banner carry the demo credentials", () => {
  assert.deepEqual(seedRequestBody("pw-123456789012"), {
    slug: "demo",
    name: "Demo Events",
    owner: { email: "owner@demo.test", name: "Demo Owner", password: "pw-123456789012" },
  });
  const text = banner({ baseUrl: "http://127.0.0.1:8787", adminKey: "ADMINKEY", password: "PW_x-1", state: "created" });
  for (const needle of [
    "http://127.0.0.1:8787/docs",
    "http://127.0.0.1:8787/openapi.json",
    "ADMINKEY",
    "owner@demo.test",
    "curl -sS -X POST http://127.0.0.1:8787/v1/auth/login",
    `-d '{"tenant":"demo","email":"owner@demo.test","password":"PW_x-1"}'`,
  ]) {
    assert.ok(text.includes(needle), `banner lacks ${needle}`);
  }
  assert.ok(!text.includes("rm -rf"));
  assert.ok(banner({ baseUrl: "u", adminKey: "k", password: "p", state: "already seeded" }).includes("rm -rf .wrangler/state"));
});
