import { env } from "cloudflare:workers";
import { base64url, decodeJwt, decodeProtectedHeader, generateKeyPair, importJWK, SignJWT, type JWK, type JWTPayload } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { verifyAccessToken } from "../../src/auth/jwt";
import { loadConfig } from "../../src/config/env";
import { createTenant, login, registerUser, type TenantFixture, type UserFixture } from "../helpers/fixtures";
import { call, expectProblem } from "../helpers/http";

/**
 * Attacks on access tokens. Each forgery differs from a token the API accepts in one
 * respect only: the control test proves `forge()` with no changes is accepted, so a
 * 401 below is caused by the attack, not by a broken forgery.
 */

type SigningJwk = JWK & { kid: string; x: string; d: string };
const configuredKeys = JSON.parse(env.JWT_SIGNING_KEYS) as SigningJwk[];
const [activeKey, previousKey] = configuredKeys as [SigningJwk, SigningJwk];
const privateKey = (k: SigningJwk) => importJWK({ kty: k.kty, crv: k.crv, x: k.x, d: k.d }, "EdDSA");
const nowSeconds = () => Math.floor(Date.now() / 1000);

let a: TenantFixture;
let b: TenantFixture;
let customer: UserFixture;
/** The claims of an access token the API issued to `customer`. */
let issued: JWTPayload;

beforeAll(async () => {
  a = await createTenant();
  b = await createTenant();
  customer = await registerUser(a);
  issued = decodeJwt(customer.tokens.accessToken);
});

interface Forgery {
  claims?: Record<string, unknown>;
  /** Claims to drop from the issued ones. */
  without?: string[];
  header?: Record<string, unknown>;
  /** Header fields to drop (e.g. typ). */
  headerWithout?: string[];
  key?: Parameters<SignJWT["sign"]>[0];
}

/** Re-signs `customer`'s claims (fresh iat/exp) with the active key, then applies the changes. */
async function forge(f: Forgery = {}): Promise<string> {
  const iat = nowSeconds();
  const payload: Record<string, unknown> = { ...issued, iat, exp: iat + 600, ...f.claims };
  for (const c of f.without ?? []) delete payload[c];
  const header: Record<string, unknown> = { alg: "EdDSA", kid: activeKey.kid, typ: "at+jwt", ...f.header };
  for (const h of f.headerWithout ?? []) delete header[h];
  return new SignJWT(payload)
    .setProtectedHeader(header as { alg: string })
    .sign(f.key ?? (await privateKey(activeKey)));
}

const encodeJson = (v: unknown) => base64url.encode(JSON.stringify(v));

/** Same header and signature, different payload. */
function tamper(token: string, changes: Record<string, unknown>): string {
  const [h, p, s] = token.split(".") as [string, string, string];
  const payload = JSON.parse(new TextDecoder().decode(base64url.decode(p))) as Record<string, unknown>;
  return `${h}.${encodeJson({ ...payload, ...changes })}.${s}`;
}

async function expectRefused(token: string) {
  expectProblem(await call("GET", "/v1/me", { token }), 401, "TOKEN_INVALID");
}

async function expectAccepted(token: string) {
  const res = await call("GET", "/v1/me", { token });
  expect(res.status, res.text).toBe(200);
  expect(res.body.id).toBe(customer.id);
}

it("runs against the two test signing keys (test-active signs, test-previous verifies)", () => {
  expect(configuredKeys.map((k) => k.kid)).toEqual(["test-active", "test-previous"]);
  expect(decodeProtectedHeader(customer.tokens.accessToken)).toMatchObject({ alg: "EdDSA", kid: "test-active", typ: "at+jwt" });
});

it("control: an unmodified re-signed token is accepted", async () => {
  await expectAccepted(await forge());
});

describe("algorithm confusion", () => {
  it('refuses alg "none" (unsigned)', async () => {
    const payload = { ...issued, iat: nowSeconds(), exp: nowSeconds() + 600 };
    for (const alg of ["none", "None", "NONE"]) {
      await expectRefused(`${encodeJson({ alg, typ: "at+jwt", kid: activeKey.kid })}.${encodeJson(payload)}.`);
    }
  });

  it('refuses alg "none" headers carrying a genuine signature', async () => {
    const [, p, s] = customer.tokens.accessToken.split(".") as [string, string, string];
    await expectRefused(`${encodeJson({ alg: "none", typ: "at+jwt", kid: activeKey.kid })}.${p}.${s}`);
  });

  it("refuses HS256 tokens keyed with the public key", async () => {
    const jwks = await call("GET", "/.well-known/jwks.json");
    const published = (jwks.body.keys as JWK[]).find((k) => k.kid === activeKey.kid)!;
    expect(published, jwks.text).toBeDefined();
    const enc = new TextEncoder();
    const secrets = [
      base64url.decode(activeKey.x), // the raw public key bytes
      enc.encode(activeKey.x), // the JWKS "x" string
      enc.encode(JSON.stringify(published)), // the published JWK as served
      enc.encode(JSON.stringify({ kty: published.kty, crv: published.crv, x: published.x })),
    ];
    for (const secret of secrets) {
      await expectRefused(await forge({ header: { alg: "HS256" }, key: secret }));
    }
  });
});

describe("key selection", () => {
  it('refuses a token signed by an unknown key with kid "nope"', async () => {
    const { privateKey: stranger } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
    await expectRefused(await forge({ header: { kid: "nope" }, key: stranger }));
  });

  it("refuses a token signed by an unknown key that claims the real kid", async () => {
    const { privateKey: stranger } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
    await expectRefused(await forge({ key: stranger }));
  });

  it("refuses a token without a kid", async () => {
    await expectRefused(await forge({ headerWithout: ["kid"] }));
  });

  it("refuses a token signed by the previous key but labelled with the active kid", async () => {
    await expectRefused(await forge({ key: await privateKey(previousKey) }));
  });

  it("accepts a token signed by the second configured key (rotation)", async () => {
    await expectAccepted(await forge({ header: { kid: previousKey.kid }, key: await privateKey(previousKey) }));
  });

  it("publishes both kids in the JWKS and no private key material", async () => {
    const res = await call("GET", "/.well-known/jwks.json");
    expect(res.status, res.text).toBe(200);
    const keys = res.body.keys as Record<string, unknown>[];
    expect(keys.map((k) => k.kid)).toEqual([activeKey.kid, previousKey.kid]);
    expect(keys.map((k) => k.x)).toEqual([activeKey.x, previousKey.x]);
    for (const k of keys) {
      expect(k).not.toHaveProperty("d");
      expect(k).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig" });
    }
    expect(res.text).not.toContain(activeKey.d);
    expect(res.text).not.toContain(previousKey.d);
  });
});

describe("claims", () => {
  it("refuses an expired token signed with the real key", async () => {
    const past = nowSeconds() - 3600;
    await expectRefused(await forge({ claims: { iat: past, exp: past + 900 } }));
  });

  it("refuses a token that is not yet valid (nbf in the future)", async () => {
    const later = nowSeconds() + 3600;
    await expectRefused(await forge({ claims: { nbf: later, iat: later, exp: later + 900 } }));
  });

  it("refuses a token whose role was raised to owner after signing", async () => {
    await expectAccepted(customer.tokens.accessToken);
    await expectRefused(tamper(customer.tokens.accessToken, { role: "owner" }));
  });

  it("refuses a token whose tenant was changed after signing", async () => {
    await expectRefused(tamper(customer.tokens.accessToken, { tid: b.id }));
    // Pointing at a real user of tenant B: only the signature stands in the way.
    await expectRefused(tamper(customer.tokens.accessToken, { tid: b.id, sub: b.owner.id, role: "owner" }));
  });

  it("refuses a token whose subject was changed to the owner after signing", async () => {
    await expectRefused(tamper(customer.tokens.accessToken, { sub: a.owner.id, role: "owner" }));
  });

  it("refuses a wrong issuer", async () => {
    await expectRefused(await forge({ claims: { iss: "https://auth.attacker.test" } }));
  });

  it("refuses a wrong audience", async () => {
    await expectRefused(await forge({ claims: { aud: "some-other-api" } }));
  });

  it('refuses a token without typ "at+jwt" (e.g. an ID token or generic JWT)', async () => {
    await expectRefused(await forge({ headerWithout: ["typ"] }));
    await expectRefused(await forge({ header: { typ: "JWT" } }));
  });

  it("refuses a token missing a required claim", async () => {
    for (const claim of ["sid", "tv", "tid", "exp"]) {
      await expectRefused(await forge({ without: [claim] }));
    }
  });

  it("refuses a validly signed token whose role is not the user's (role comes from the database)", async () => {
    // Signed with the real key: only the server-side check of tv/role/status stands between
    // this token and the owner's powers. A customer must still be refused admin routes.
    const token = await forge({ claims: { role: "owner" } });
    const res = await call("GET", "/v1/users", { token });
    expectProblem(res, 403, "FORBIDDEN");
  });
});

describe("tenancy and account state", () => {
  it("answers tenant B's owner asking for tenant A's user with 404 NOT_FOUND", async () => {
    const own = await call("GET", `/v1/users/${customer.id}`, { token: a.owner.tokens.accessToken });
    expect(own.status, own.text).toBe(200);
    const res = await call("GET", `/v1/users/${customer.id}`, { token: b.owner.tokens.accessToken });
    expectProblem(res, 404, "NOT_FOUND");
  });

  it("refuses a suspended tenant's tokens at once, access and refresh", async () => {
    const t = await createTenant();
    const res = await call("GET", "/v1/me", { token: t.owner.tokens.accessToken });
    expect(res.status, res.text).toBe(200);
    const suspend = await call("POST", `/v1/platform/tenants/${t.id}/suspend`, { token: env.PLATFORM_ADMIN_KEY, body: { reason: "unpaid invoices" } });
    expect(suspend.status, suspend.text).toBe(200);
    expectProblem(await call("GET", "/v1/me", { token: t.owner.tokens.accessToken }), 401, "TOKEN_INVALID");
    expectProblem(await call("POST", "/v1/auth/refresh", { body: { refreshToken: t.owner.tokens.refreshToken } }), 401, "TOKEN_INVALID");
  });

  it("refuses a banned user's tokens at once, access and refresh", async () => {
    const victim = await registerUser(a);
    const session = await login(a.slug, victim.email, victim.password);
    expect((await call("GET", "/v1/me", { token: session.tokens.accessToken })).status).toBe(200);
    const ban = await call("POST", `/v1/users/${victim.id}/ban`, { token: a.owner.tokens.accessToken, body: { reason: "fraud" } });
    expect(ban.status, ban.text).toBe(200);
    for (const token of [session.tokens.accessToken, victim.tokens.accessToken]) {
      expectProblem(await call("GET", "/v1/me", { token }), 401, "TOKEN_INVALID");
    }
    for (const refreshToken of [session.tokens.refreshToken, victim.tokens.refreshToken]) {
      expectProblem(await call("POST", "/v1/auth/refresh", { body: { refreshToken } }), 401, "TOKEN_INVALID");
    }
  });

  it("keeps tokens issued before a ban dead after the unban; a new login works", async () => {
    const victim = await registerUser(a);
    const ban = await call("POST", `/v1/users/${victim.id}/ban`, { token: a.owner.tokens.accessToken, body: { reason: "mistake" } });
    expect(ban.status, ban.text).toBe(200);
    const unban = await call("POST", `/v1/users/${victim.id}/unban`, { token: a.owner.tokens.accessToken });
    expect(unban.status, unban.text).toBe(200);
    expectProblem(await call("GET", "/v1/me", { token: victim.tokens.accessToken }), 401, "TOKEN_INVALID");
    expectProblem(await call("POST", "/v1/auth/refresh", { body: { refreshToken: victim.tokens.refreshToken } }), 401, "TOKEN_INVALID");
    const again = await login(a.slug, victim.email, victim.password);
    expect((await call("GET", "/v1/me", { token: again.tokens.accessToken })).status).toBe(200);
  });
});

// verifyAccessToken remembers tokens it verified (per isolate, by their exact text); what
// the signature proves may be cached, the time window may not.
describe("the verified-token cache", () => {
  it("a cached token is still refused outside its nbf..exp window, and a one-byte change is not a cache hit", async () => {
    const config = loadConfig(env);
    const now = Date.now();
    const nbf = Math.floor(now / 1000) - 5;
    const token = await forge({ claims: { nbf, iat: nbf, exp: nbf + 60 } });
    const first = await verifyAccessToken(config, token, now);
    expect(first).toMatchObject({ sub: issued.sub, tid: issued.tid });
    expect(await verifyAccessToken(config, token, now + 1000)).toEqual(first);
    expect(await verifyAccessToken(config, token, (nbf + 60) * 1000)).toBeNull();
    expect(await verifyAccessToken(config, token, (nbf + 60) * 1000 - 1)).toEqual(first);
    expect(await verifyAccessToken(config, token, nbf * 1000 - 1)).toBeNull();
    expect(await verifyAccessToken(config, tamper(token, { role: "owner" }), now)).toBeNull();
    const [h, p, s] = token.split(".") as [string, string, string];
    const flipped = `${h}.${p}.${s.slice(0, -2)}${s.endsWith("AA") ? "AB" : "AA"}`;
    expect(await verifyAccessToken(config, flipped, now)).toBeNull();
  });
});
