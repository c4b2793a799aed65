import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { HOLD_VELOCITY } from "../../src/fraud";
import { createApp } from "../../workers/api/app";
import { callApp, envWith } from "../http/app-harness";
import { createTenant, registerUser, type TenantFixture } from "../helpers/fixtures";
import { BASE_URL, expectProblem, readResult, requestInit, type CallResult } from "../helpers/http";
import { holdsPath, onSaleEvent, placeHold } from "../sales/support";

const ACCOUNT = HOLD_VELOCITY.account;
const IP = HOLD_VELOCITY.ip;

let tenant: TenantFixture;
beforeAll(async () => {
  tenant = await createTenant();
});

const buyer = async () => (await registerUser(tenant)).tokens.accessToken;
const one = (tierId: string) => [{ tierId, quantity: 1 }];
const rand = () => Math.floor(Math.random() * 256);
/** An address of its own per test: limiter state may outlive a test. */
const freshIpv4 = () => `10.${rand()}.${rand()}.${rand()}`;

/** An event whose tier lets one buyer hold far more than the velocity limits, one ticket at a time. */
const roomyEvent = (t: TenantFixture = tenant) => onSaleEvent(t, { capacity: 1000, maxPerOrder: 1, maxPerBuyer: 1000 });

/** `n` holds at once by one buyer. */
const burst = (n: number, token: string, eventId: string, tierId: string, headers: Record<string, string> = {}) =>
  Promise.all(Array.from({ length: n }, () => placeHold(token, eventId, one(tierId), { headers })));

/** A hold through an app whose clock reads `at` (the limiter's windows follow the request clock). */
async function holdAt(at: number, token: string, eventId: string, tierId: string): Promise<CallResult> {
  const ctx = createExecutionContext();
  const init = requestInit("POST", { token, headers: { "idempotency-key": crypto.randomUUID() }, body: { items: one(tierId) } });
  const res = await readResult(await createApp({ clock: () => at }).request(`${BASE_URL}${holdsPath(eventId)}`, init, env, ctx));
  await waitOnExecutionContext(ctx);
  return res;
}

function expectLimited(res: CallResult, by: "account" | "ip") {
  const p = expectProblem(res, 429, "HOLD_RATE_LIMITED");
  const retryAfter = Number(res.headers.get("retry-after"));
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual((by === "account" ? ACCOUNT : IP).windowMs / 1000);
  expect(p).toMatchObject({ limitedBy: by, retryAfterSeconds: retryAfter });
  return retryAfter;
}

describe("hold velocity per account", () => {
  it(`admits ${ACCOUNT.limit} holds per window, even in one burst; the rest get 429 with Retry-After; other buyers are unaffected`, async () => {
    const { event, tier } = await roomyEvent();
    const hasty = await buyer();
    const results = await burst(ACCOUNT.limit + 5, hasty, event.id, tier.id);
    expect(results.filter((r) => r.status === 201)).toHaveLength(ACCOUNT.limit);
    const refused = results.filter((r) => r.status !== 201);
    expect(refused).toHaveLength(5);
    for (const r of refused) expectLimited(r, "account");
    expectLimited(await placeHold(hasty, event.id, one(tier.id)), "account");

    // The limit is the buyer's, across events, and nobody else's.
    const other = await roomyEvent();
    expectLimited(await placeHold(hasty, other.event.id, one(other.tier.id)), "account");
    expect((await placeHold(await buyer(), event.id, one(tier.id))).status).toBe(201);
  });

  it("Retry-After is when the window frees a slot, and refused attempts do not push it back", async () => {
    const { event, tier } = await roomyEvent();
    const token = await buyer();
    const t0 = Date.now();
    const first = await Promise.all(Array.from({ length: ACCOUNT.limit }, () => holdAt(t0, token, event.id, tier.id)));
    expect(first.map((r) => r.status)).toEqual(Array(ACCOUNT.limit).fill(201));

    const half = ACCOUNT.windowMs / 2;
    expect(expectLimited(await holdAt(t0 + half, token, event.id, tier.id), "account")).toBe(half / 1000);
    // A client hammering while throttled: none of this counts...
    const hammering = await Promise.all(Array.from({ length: ACCOUNT.limit }, () => holdAt(t0 + half, token, event.id, tier.id)));
    for (const r of hammering) expectLimited(r, "account");
    expectLimited(await holdAt(t0 + ACCOUNT.windowMs - 1, token, event.id, tier.id), "account");
    // ...so the window frees exactly when Retry-After said.
    expect((await holdAt(t0 + ACCOUNT.windowMs, token, event.id, tier.id)).status).toBe(201);
  });

  it("counts attempts the inventory refuses", async () => {
    const { event, tier } = await onSaleEvent(tenant, { capacity: 100, maxPerOrder: 1, maxPerBuyer: 1 });
    const token = await buyer();
    expect((await placeHold(token, event.id, one(tier.id))).status).toBe(201);
    for (let i = 1; i < ACCOUNT.limit; i++) expectProblem(await placeHold(token, event.id, one(tier.id)), 409, "BUYER_LIMIT_EXCEEDED");
    expectLimited(await placeHold(token, event.id, one(tier.id)), "account");
  });

  it("counts a retry with the same Idempotency-Key as an attempt (it still answers the first hold)", async () => {
    const { event, tier } = await roomyEvent();
    const token = await buyer();
    const key = crypto.randomUUID();
    const firstHold = await placeHold(token, event.id, one(tier.id), { key });
    expect(firstHold.status).toBe(201);
    await burst(ACCOUNT.limit - 2, token, event.id, tier.id);
    const replay = await placeHold(token, event.id, one(tier.id), { key });
    expect([replay.status, replay.headers.get("idempotency-replayed"), replay.body.id]).toEqual([201, "true", firstHold.body.id]);
    expectLimited(await placeHold(token, event.id, one(tier.id)), "account");
  });

  it("admits holds when the rate limiter is unreachable (the inventory's rules still apply)", async () => {
    const { event, tier } = await onSaleEvent(tenant, { capacity: 5, maxPerBuyer: 2 });
    const token = await buyer();
    const down = envWith({
      RATE_LIMITER: {
        idFromName: (n: string) => env.RATE_LIMITER.idFromName(n),
        get: () => ({
          peek: async () => {
            throw new Error("overloaded (test)");
          },
          hit: async () => {
            throw new Error("overloaded (test)");
          },
        }),
      },
    });
    const post = (quantity: number) =>
      callApp(down, "POST", holdsPath(event.id), { token, headers: { "idempotency-key": crypto.randomUUID() }, body: { items: [{ tierId: tier.id, quantity }] } });
    expect((await post(2)).status).toBe(201);
    expectProblem(await post(1), 409, "BUYER_LIMIT_EXCEEDED");
  });
});

describe("hold velocity per client address (cf-connecting-ip)", () => {
  it(`admits ${IP.limit} holds per window from one address across buyers, then 429 for every buyer there; other addresses and tenants are unaffected`, async () => {
    const { event, tier } = await roomyEvent();
    const ip = freshIpv4();
    const headers = { "cf-connecting-ip": ip };
    // Enough buyers to fill the address without any of them reaching their own limit.
    const perBuyer = ACCOUNT.limit - 1;
    const buyers = await Promise.all(Array.from({ length: Math.ceil(IP.limit / perBuyer) }, () => buyer()));
    let left = IP.limit;
    const results = await Promise.all(
      buyers.map((token) => {
        const n = Math.min(perBuyer, left);
        left -= n;
        return burst(n, token, event.id, tier.id, headers);
      }),
    );
    expect(results.flat().map((r) => r.status)).toEqual(Array(IP.limit).fill(201));

    // Two buyers who have held nothing yet are both refused from that address.
    const [late1, late2] = [await buyer(), await buyer()];
    expectLimited(await placeHold(late1, event.id, one(tier.id), { headers }), "ip");
    expectLimited(await placeHold(late2, event.id, one(tier.id), { headers }), "ip");
    expectLimited(await placeHold(buyers[0]!, event.id, one(tier.id), { headers }), "ip");

    // Another address, and the same address at another tenant, are counted apart.
    expect((await placeHold(late1, event.id, one(tier.id), { headers: { "cf-connecting-ip": freshIpv4() } })).status).toBe(201);
    const elsewhere = await createTenant();
    const theirs = await roomyEvent(elsewhere);
    const theirBuyer = (await registerUser(elsewhere)).tokens.accessToken;
    expect((await placeHold(theirBuyer, theirs.event.id, one(theirs.tier.id), { headers })).status).toBe(201);
  });

  it("counts an IPv6 client by its /64", async () => {
    const { event, tier } = await roomyEvent();
    const prefix = `2001:db8:${rand().toString(16)}:${rand().toString(16)}`;
    const buyers = await Promise.all(Array.from({ length: Math.ceil(IP.limit / (ACCOUNT.limit - 1)) }, () => buyer()));
    let i = 0;
    let left = IP.limit;
    const results = await Promise.all(
      buyers.map((token) => {
        const n = Math.min(ACCOUNT.limit - 1, left);
        left -= n;
        return Promise.all(
          Array.from({ length: n }, () => placeHold(token, event.id, one(tier.id), { headers: { "cf-connecting-ip": `${prefix}::${(++i).toString(16)}` } })),
        );
      }),
    );
    expect(results.flat().map((r) => r.status)).toEqual(Array(IP.limit).fill(201));
    expectLimited(await placeHold(await buyer(), event.id, one(tier.id), { headers: { "cf-connecting-ip": `${prefix}:ffff:1:2:3` } }), "ip");
  });
});
