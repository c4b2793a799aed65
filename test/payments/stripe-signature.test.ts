import { describe, expect, it } from "vitest";
import {
  isPaymentIntentEvent,
  isRefundEvent,
  parseStripeEvent,
  signStripePayload,
  verifyStripeSignature,
} from "../../src/payments/stripe-signature";

const SECRET = "whsec_test_4eC39HqLyjWDarjtT1zdp7dc";
const OTHER_SECRET = "whsec_test_rotated_9a8b7c6d5e4f";
const T = 1_700_000_000;
const BODY = JSON.stringify({ id: "evt_test_vector", object: "event" });
// Computed outside this codebase (Python's hmac module) over `${T}.${BODY}` keyed
// with the whole SECRET string, pinning the scheme to Stripe's definition rather
// than to whatever the module under test happens to do.
const KNOWN_V1 = "89b11ef0817df48975e05db6ce50c994e46fa08bd17a7a54871bfa0b6dd64402";

async function v1(body: string, secret: string, t: number): Promise<string> {
  const header = await signStripePayload(body, secret, t);
  const match = /,v1=([0-9a-f]{64})$/.exec(header);
  if (!match) throw new Error(`unexpected header ${header}`);
  return match[1]!;
}

describe("signStripePayload", () => {
  it("produces Stripe's header format with the HMAC of `${t}.${body}` keyed by the whole whsec_ string", async () => {
    expect(await signStripePayload(BODY, SECRET, T)).toBe(`t=${T},v1=${KNOWN_V1}`);
  });

  it("refuses an empty secret and a non-integer timestamp", async () => {
    await expect(signStripePayload(BODY, "", T)).rejects.toThrow(/secret/);
    await expect(signStripePayload(BODY, SECRET, 1.5)).rejects.toThrow(RangeError);
  });
});

describe("verifyStripeSignature", () => {
  it("accepts a genuine signature and reports its timestamp", async () => {
    const header = await signStripePayload(BODY, SECRET, T);
    expect(await verifyStripeSignature(BODY, header, SECRET, T + 5)).toEqual({ ok: true, timestamp: T });
    expect(await verifyStripeSignature(BODY, `t=${T},v1=${KNOWN_V1}`, SECRET, T)).toEqual({ ok: true, timestamp: T });
  });

  it("rejects a tampered body, even a one-character or whitespace change", async () => {
    const header = await signStripePayload(BODY, SECRET, T);
    for (const tampered of [BODY.replace("vector", "vectoR"), `${BODY} `, JSON.stringify(JSON.parse(BODY), null, 1), ""]) {
      expect(await verifyStripeSignature(tampered, header, SECRET, T)).toEqual({ ok: false, reason: "no_signature_match" });
    }
  });

  it("rejects a signature made with another secret", async () => {
    const header = await signStripePayload(BODY, OTHER_SECRET, T);
    expect(await verifyStripeSignature(BODY, header, SECRET, T)).toEqual({ ok: false, reason: "no_signature_match" });
    // The secret is the whole string: the part after the prefix alone is a different key.
    const stripped = await signStripePayload(BODY, SECRET.slice("whsec_".length), T);
    expect(await verifyStripeSignature(BODY, stripped, SECRET, T)).toEqual({ ok: false, reason: "no_signature_match" });
  });

  it("rejects a signed timestamp changed after signing", async () => {
    const sig = await v1(BODY, SECRET, T);
    expect(await verifyStripeSignature(BODY, `t=${T + 1},v1=${sig}`, SECRET, T)).toEqual({ ok: false, reason: "no_signature_match" });
  });

  it("rejects stale and future timestamps beyond the tolerance, both ways", async () => {
    const header = await signStripePayload(BODY, SECRET, T);
    expect(await verifyStripeSignature(BODY, header, SECRET, T + 301)).toEqual({ ok: false, reason: "timestamp_outside_tolerance" });
    expect(await verifyStripeSignature(BODY, header, SECRET, T - 301)).toEqual({ ok: false, reason: "timestamp_outside_tolerance" });
    expect(await verifyStripeSignature(BODY, header, SECRET, T + 86_400)).toEqual({ ok: false, reason: "timestamp_outside_tolerance" });
  });

  it("accepts timestamps within the tolerance, up to and including its edge", async () => {
    const header = await signStripePayload(BODY, SECRET, T);
    for (const now of [T, T + 299, T + 300, T - 299, T - 300]) {
      expect(await verifyStripeSignature(BODY, header, SECRET, now)).toEqual({ ok: true, timestamp: T });
    }
  });

  it("honours a custom tolerance and refuses a nonsensical one", async () => {
    const header = await signStripePayload(BODY, SECRET, T);
    expect(await verifyStripeSignature(BODY, header, SECRET, T + 60, 30)).toEqual({ ok: false, reason: "timestamp_outside_tolerance" });
    expect(await verifyStripeSignature(BODY, header, SECRET, T + 60, 600)).toEqual({ ok: true, timestamp: T });
    await expect(verifyStripeSignature(BODY, header, SECRET, T, 0)).rejects.toThrow(RangeError);
    await expect(verifyStripeSignature(BODY, header, SECRET, T, Number.NaN)).rejects.toThrow(RangeError);
  });

  it("checks the signature before the clock: a stale forgery is a mismatch, not merely stale", async () => {
    const header = await signStripePayload(BODY, OTHER_SECRET, T);
    expect(await verifyStripeSignature(BODY, header, SECRET, T + 10_000)).toEqual({ ok: false, reason: "no_signature_match" });
  });

  it("accepts when any one of several v1 signatures matches (secret rotation), wherever it sits", async () => {
    const good = await v1(BODY, SECRET, T);
    const old = await v1(BODY, OTHER_SECRET, T);
    expect(await verifyStripeSignature(BODY, `t=${T},v1=${old},v1=${good}`, SECRET, T)).toEqual({ ok: true, timestamp: T });
    expect(await verifyStripeSignature(BODY, `t=${T},v1=${good},v1=${old}`, SECRET, T)).toEqual({ ok: true, timestamp: T });
    // The endpoint still on the old secret accepts the same header too.
    expect(await verifyStripeSignature(BODY, `t=${T},v1=${good},v1=${old}`, OTHER_SECRET, T)).toEqual({ ok: true, timestamp: T });
    expect(await verifyStripeSignature(BODY, `t=${T},v1=${old},v1=${"0".repeat(64)}`, SECRET, T)).toEqual({
      ok: false,
      reason: "no_signature_match",
    });
  });

  it("never accepts v0 (Stripe's test scheme) on its own, and ignores it next to a valid v1", async () => {
    const good = await v1(BODY, SECRET, T);
    expect(await verifyStripeSignature(BODY, `t=${T},v0=${good}`, SECRET, T)).toEqual({ ok: false, reason: "no_signature_match" });
    expect(await verifyStripeSignature(BODY, `t=${T},v0=${"a".repeat(64)},v1=${good}`, SECRET, T)).toEqual({ ok: true, timestamp: T });
  });

  it("reports a missing header apart from malformed ones", async () => {
    expect(await verifyStripeSignature(BODY, null, SECRET, T)).toEqual({ ok: false, reason: "missing_header" });
    expect(await verifyStripeSignature(BODY, undefined, SECRET, T)).toEqual({ ok: false, reason: "missing_header" });
  });

  it("refuses malformed headers: empty, no t, non-numeric t, duplicate t, junk", async () => {
    const good = await v1(BODY, SECRET, T);
    const malformed = [
      "",
      "   ",
      `v1=${good}`,
      `t=,v1=${good}`,
      `t=abc,v1=${good}`,
      `t=${T}.5,v1=${good}`,
      `t=-${T},v1=${good}`,
      `t=1e9,v1=${good}`,
      `t=${T},t=${T},v1=${good}`,
      `t=${T},v1=${good},`,
      `t=${T};v1=${good}`,
      "hello",
      `${good}`,
    ];
    for (const header of malformed) {
      expect(await verifyStripeSignature(BODY, header, SECRET, T), header).toEqual({ ok: false, reason: "malformed_header" });
    }
  });

  it("treats hex case as irrelevant (the MAC is the bytes) but refuses truncated or padded signatures", async () => {
    const good = await v1(BODY, SECRET, T);
    expect(await verifyStripeSignature(BODY, `t=${T},v1=${good.toUpperCase()}`, SECRET, T)).toEqual({ ok: true, timestamp: T });
    for (const bad of [good.slice(0, 62), `${good}00`, `${good.slice(0, 63)}g`, ""]) {
      expect(await verifyStripeSignature(BODY, `t=${T},v1=${bad}`, SECRET, T)).toEqual({ ok: false, reason: "no_signature_match" });
    }
  });

  it("tolerates spaces around items, as some proxies add them", async () => {
    const good = await v1(BODY, SECRET, T);
    expect(await verifyStripeSignature(BODY, `t=${T}, v1=${good}`, SECRET, T)).toEqual({ ok: true, timestamp: T });
  });

  it("refuses to verify with an empty secret instead of answering", async () => {
    await expect(verifyStripeSignature(BODY, `t=${T},v1=${KNOWN_V1}`, "", T)).rejects.toThrow(/secret/);
  });
});

function piEvent(overrides: { object?: Record<string, unknown>; event?: Record<string, unknown> } = {}): string {
  return JSON.stringify({
    id: "evt_1QabcDEF",
    object: "event",
    api_version: "2026-09-30.endive",
    created: T,
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: "payment_intent.succeeded",
    data: {
      object: {
        id: "pi_3QabcDEF",
        object: "payment_intent",
        amount: 2500,
        amount_received: 2500,
        currency: "eur",
        status: "succeeded",
        metadata: { tenant_id: "t1", event_id: "e1", order_id: "o1" },
        latest_charge: "ch_3QabcDEF",
        ...overrides.object,
      },
    },
    ...overrides.event,
  });
}

describe("parseStripeEvent", () => {
  it("parses a payment_intent event into a typed PaymentIntent, keeping extra fields", () => {
    const result = parseStripeEvent(piEvent());
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const event = result.event;
    expect(isPaymentIntentEvent(event)).toBe(true);
    expect(isRefundEvent(event)).toBe(false);
    if (!isPaymentIntentEvent(event)) return;
    expect(event).toMatchObject({ id: "evt_1QabcDEF", type: "payment_intent.succeeded", created: T, livemode: false });
    expect(event.data.object).toMatchObject({ id: "pi_3QabcDEF", amount: 2500, amount_received: 2500, currency: "eur", status: "succeeded" });
    expect(event.data.object.metadata).toEqual({ tenant_id: "t1", event_id: "e1", order_id: "o1" });
    expect(event.data.object["latest_charge"]).toBe("ch_3QabcDEF");
  });

  it("accepts unknown event types as valid events for the caller to ignore", () => {
    const body = JSON.stringify({
      id: "evt_2",
      object: "event",
      type: "customer.created",
      created: T,
      livemode: true,
      data: { object: { id: "cus_1", object: "customer", email: null } },
    });
    const result = parseStripeEvent(body);
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.event.type).toBe("customer.created");
      expect(isPaymentIntentEvent(result.event) || isRefundEvent(result.event)).toBe(false);
    }
  });

  it("keeps refund events loose but still requires their object's identity", () => {
    const refund = (object: Record<string, unknown>, type = "charge.refunded") =>
      JSON.stringify({ id: "evt_3", object: "event", type, created: T, livemode: false, data: { object } });
    const charge = parseStripeEvent(
      refund({ id: "ch_1", object: "charge", payment_intent: "pi_1", amount_refunded: 500, refunds: { data: [] }, whatever: 1 }),
    );
    expect(charge.ok && isRefundEvent(charge.event) && charge.event.data.object.payment_intent).toBe("pi_1");
    const updated = parseStripeEvent(refund({ id: "re_1", object: "refund", status: null, payment_intent: "pi_1" }, "refund.updated"));
    expect(updated.ok && isRefundEvent(updated.event)).toBe(true);
    expect(parseStripeEvent(refund({ object: "charge" }))).toEqual({ ok: false });
  });

  it("refuses malformed JSON and non-event shapes", () => {
    for (const body of ["", "{", "not json", "null", "[]", "42", '"evt_1"']) expect(parseStripeEvent(body), body).toEqual({ ok: false });
    const invalidEnvelopes: Record<string, unknown>[] = [
      { object: "charge" },
      { id: "ch_1" },
      { id: 7 },
      { type: "" },
      { created: "yesterday" },
      { created: 1.5 },
      { livemode: "false" },
      { data: null },
      { data: { object: "pi_1" } },
    ];
    for (const event of invalidEnvelopes) expect(parseStripeEvent(piEvent({ event })), JSON.stringify(event)).toEqual({ ok: false });
    const { type: _type, ...withoutType } = JSON.parse(piEvent()) as Record<string, unknown>;
    expect(parseStripeEvent(JSON.stringify(withoutType))).toEqual({ ok: false });
  });

  it("refuses payment_intent events whose object lacks what the order flow relies on", () => {
    const badObjects: Record<string, unknown>[] = [
      { id: "ch_1" },
      { object: "charge" },
      { amount: 12.5 },
      { amount: -1 },
      { amount: "2500" },
      { currency: "EUR" },
      { currency: "euro" },
      { metadata: null },
      { metadata: { order_id: 7 } },
      { status: "" },
      { amount_received: null },
    ];
    for (const object of badObjects) expect(parseStripeEvent(piEvent({ object })), JSON.stringify(object)).toEqual({ ok: false });
    expect(parseStripeEvent(piEvent({ object: { status: "some_future_status" } })).ok).toBe(true);
  });
});
