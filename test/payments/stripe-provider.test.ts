import { describe, expect, it } from "vitest";
import { type CreateIntentRequest, PaymentProviderError, type RefundRequest } from "../../src/payments/provider";
import { encodeStripeForm, STRIPE_API_VERSION, StripeProvider } from "../../src/payments/stripe";
import { FakeStripe } from "./fake-stripe";

const KEY = "sk_test_51FakeKeyForBoxofficeTests0123456789";

function setup(opts: { timeoutMs?: number; fakeKey?: string; echoKeyInErrors?: boolean; apiBase?: string } = {}) {
  const stripe = new FakeStripe({
    secretKey: opts.fakeKey ?? KEY,
    apiVersion: STRIPE_API_VERSION,
    ...(opts.apiBase ? { apiBase: opts.apiBase } : {}),
    ...(opts.echoKeyInErrors ? { echoKeyInErrors: true } : {}),
  });
  const provider = new StripeProvider({
    secretKey: KEY,
    fetch: stripe.fetch,
    ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.apiBase ? { apiBase: opts.apiBase } : {}),
  });
  return { stripe, provider };
}

let counter = 0;
function intentReq(overrides: Partial<CreateIntentRequest> = {}): CreateIntentRequest {
  counter += 1;
  return {
    tenantId: "tenant-1",
    eventId: "event-1",
    orderId: `order-${counter}`,
    amountMinor: 4250,
    currency: "EUR",
    description: "2 × General admission",
    idempotencyKey: `checkout-${counter}-${crypto.randomUUID()}`,
    ...overrides,
  };
}

/** Runs `work`, expecting a PaymentProviderError, and returns it for inspection. */
async function failure(work: Promise<unknown>): Promise<PaymentProviderError> {
  try {
    await work;
  } catch (err) {
    expect(err).toBeInstanceOf(PaymentProviderError);
    return err as PaymentProviderError;
  }
  throw new Error("expected a PaymentProviderError");
}

describe("Stripe API version", () => {
  it("pins a real dated Stripe release name", () => {
    expect(STRIPE_API_VERSION).toMatch(/^\d{4}-\d{2}-\d{2}\.[a-z]+$/);
  });
});

describe("encodeStripeForm", () => {
  it("uses Stripe's bracket notation for nested values and skips undefined", () => {
    const form = new URLSearchParams(encodeStripeForm({ a: 1, b: undefined, c: { d: "x y&z", e: { f: true } } }));
    expect([...form]).toEqual([
      ["a", "1"],
      ["c[d]", "x y&z"],
      ["c[e][f]", "true"],
    ]);
  });
});

describe("StripeProvider.createIntent", () => {
  it("sends Stripe's wire format: form body, bracket metadata, auth, version, idempotency key", async () => {
    const { stripe, provider } = setup();
    const req = intentReq({ orderId: "order-wire" });
    const ref = await provider.createIntent(req);

    expect(stripe.requests).toHaveLength(1);
    const sent = stripe.lastRequest;
    expect(sent.method).toBe("POST");
    expect(sent.url).toBe("https://api.stripe.com/v1/payment_intents");
    expect(sent.headers.get("Authorization")).toBe(`Bearer ${KEY}`);
    expect(sent.headers.get("Content-Type")).toBe("application/x-www-form-urlencoded");
    expect(sent.headers.get("Idempotency-Key")).toBe(req.idempotencyKey);
    expect(sent.headers.get("Stripe-Version")).toBe(STRIPE_API_VERSION);
    expect(Object.fromEntries(sent.form)).toEqual({
      amount: "4250",
      currency: "eur",
      description: "2 × General admission",
      "metadata[tenant_id]": "tenant-1",
      "metadata[event_id]": "event-1",
      "metadata[order_id]": "order-wire",
      "automatic_payment_methods[enabled]": "true",
    });

    const stored = stripe.intents.get(ref.intentId);
    expect(stored).toBeDefined();
    expect(ref).toEqual({ provider: "stripe", intentId: stored!.id, clientSecret: stored!.client_secret, status: "requires_payment_method" });
    expect(ref.clientSecret.startsWith(`${ref.intentId}_secret_`)).toBe(true);
    expect(stored!.metadata).toEqual({ tenant_id: "tenant-1", event_id: "event-1", order_id: "order-wire" });
  });

  it("omits the description when there is none", async () => {
    const { stripe, provider } = setup();
    const { description: _omitted, ...req } = intentReq();
    await provider.createIntent(req);
    expect(stripe.lastRequest.form.has("description")).toBe(false);
  });

  it("gets the same intent back when the call is retried with the same key, as Stripe replays it", async () => {
    const { stripe, provider } = setup();
    const req = intentReq();
    const first = await provider.createIntent(req);
    const second = await provider.createIntent({ ...req });
    expect(second).toEqual(first);
    expect(stripe.intents.size).toBe(1);
    expect(stripe.replays).toBe(1);

    const other = await provider.createIntent({ ...req, idempotencyKey: `${req.idempotencyKey}-b` });
    expect(other.intentId).not.toBe(first.intentId);
    expect(stripe.intents.size).toBe(2);
  });

  it("reports a key reused with other parameters as Stripe's non-retryable idempotency_error", async () => {
    const { stripe, provider } = setup();
    const req = intentReq();
    await provider.createIntent(req);
    const err = await failure(provider.createIntent({ ...req, amountMinor: req.amountMinor + 1 }));
    expect(err).toMatchObject({ retryable: false, providerCode: "idempotency_error", httpStatus: 400 });
    expect(stripe.intents.size).toBe(1);
  });

  it("creates exactly one intent when a retry follows a 500 (failed requests are not stored)", async () => {
    const { stripe, provider } = setup();
    stripe.injectFault({ kind: "http", status: 500, error: { type: "api_error", message: "Something went wrong on Stripe's end." } });
    const req = intentReq();
    const err = await failure(provider.createIntent(req));
    expect(err.retryable).toBe(true);
    const ref = await provider.createIntent(req);
    expect(stripe.intents.size).toBe(1);
    expect(stripe.requests.map((r) => r.headers.get("Idempotency-Key"))).toEqual([req.idempotencyKey, req.idempotencyKey]);
    expect(ref.intentId).toMatch(/^pi_/);
  });

  it("refuses bad input before anything reaches Stripe", async () => {
    const { stripe, provider } = setup();
    const bad: Partial<CreateIntentRequest>[] = [
      { currency: "eur" },
      { currency: "EURO" },
      { amountMinor: 0 },
      { amountMinor: -5 },
      { amountMinor: 12.5 },
      { amountMinor: Number.MAX_SAFE_INTEGER + 2 },
      { idempotencyKey: "" },
      { idempotencyKey: "has space" },
      { idempotencyKey: "k".repeat(256) },
      { orderId: "" },
      { tenantId: "" },
    ];
    for (const overrides of bad) {
      const err = await failure(provider.createIntent(intentReq(overrides)));
      expect(err, JSON.stringify(overrides)).toMatchObject({ retryable: false, providerCode: "invalid_request" });
    }
    expect(stripe.requests).toHaveLength(0);
  });

  it("refuses an answer that is for another order or amount", async () => {
    const { stripe, provider } = setup();
    const body = JSON.stringify({
      id: "pi_other",
      object: "payment_intent",
      amount: 1,
      currency: "eur",
      client_secret: "pi_other_secret_x",
      status: "requires_payment_method",
      metadata: { order_id: "someone-else" },
    });
    stripe.injectFault({ kind: "respond", status: 200, body, headers: { "Content-Type": "application/json" } });
    expect(await failure(provider.createIntent(intentReq()))).toMatchObject({ retryable: false, providerCode: "intent_mismatch" });
  });

  it("treats a 2xx that is not a payment intent as an invalid response", async () => {
    const { stripe, provider } = setup();
    stripe.injectFault({ kind: "respond", status: 200, body: JSON.stringify({ object: "list", data: [] }) });
    expect(await failure(provider.createIntent(intentReq()))).toMatchObject({ retryable: false, providerCode: "invalid_response" });
    stripe.injectFault({ kind: "respond", status: 200, body: "<html>ok</html>" });
    expect(await failure(provider.createIntent(intentReq()))).toMatchObject({ retryable: true, providerCode: "invalid_response" });
  });
});

describe("StripeProvider error mapping", () => {
  it("maps a 400 to a non-retryable error carrying Stripe's code and message", async () => {
    const { stripe, provider } = setup();
    stripe.injectFault({
      kind: "http",
      status: 400,
      error: { type: "invalid_request_error", code: "amount_too_small", message: "Amount must be at least €0.50 eur" },
    });
    const err = await failure(provider.createIntent(intentReq()));
    expect(err).toMatchObject({ retryable: false, providerCode: "amount_too_small", httpStatus: 400 });
    expect(err.message).toContain("Amount must be at least €0.50 eur");
    expect(err.message).toMatch(/\[req_[A-Za-z0-9]+\]/);
  });

  it("surfaces Stripe's protocol checks as non-retryable (here: a version the account does not expect)", async () => {
    // The fake expects another version than the client pins, so it refuses the request.
    const stripe = new FakeStripe({ secretKey: KEY, apiVersion: "2020-08-27" });
    const provider = new StripeProvider({ secretKey: KEY, fetch: stripe.fetch });
    const err = await failure(provider.createIntent(intentReq()));
    expect(err).toMatchObject({ retryable: false, providerCode: "invalid_request_error", httpStatus: 400 });
    expect(err.message).toContain("Invalid Stripe API version");
  });

  it("maps a wrong key (401) to non-retryable", async () => {
    const { provider } = setup({ fakeKey: "sk_test_theRightKeyIsThisOne00000000" });
    expect(await failure(provider.createIntent(intentReq()))).toMatchObject({ retryable: false, httpStatus: 401 });
  });

  it("maps 429, 409 and 5xx to retryable", async () => {
    const { stripe, provider } = setup();
    const cases = [
      { status: 429, error: { type: "invalid_request_error", code: "rate_limit", message: "Too many requests" } },
      { status: 409, error: { type: "idempotency_error", message: "A request with this key is already in progress" } },
      { status: 500, error: { type: "api_error", message: "Internal error" } },
      { status: 503, error: { type: "api_error", message: "Service unavailable" } },
    ];
    for (const { status, error } of cases) {
      stripe.injectFault({ kind: "http", status, error });
      const err = await failure(provider.createIntent(intentReq()));
      expect(err, String(status)).toMatchObject({ retryable: true, httpStatus: status, providerCode: error.code ?? error.type });
    }
  });

  it("maps a non-JSON gateway error (a proxy's 502 page) to retryable without a provider code", async () => {
    const { stripe, provider } = setup();
    stripe.injectFault({ kind: "respond", status: 502, body: "<html>Bad gateway</html>", headers: { "Content-Type": "text/html" } });
    const err = await failure(provider.createIntent(intentReq()));
    expect(err).toMatchObject({ retryable: true, httpStatus: 502, providerCode: undefined });
    expect(err.message).toContain("HTTP 502");
  });

  it("follows Stripe-Should-Retry when Stripe sends it", async () => {
    const { stripe, provider } = setup();
    stripe.injectFault({
      kind: "http",
      status: 400,
      error: { type: "invalid_request_error", code: "lock_timeout", message: "This object cannot be accessed right now" },
      headers: { "Stripe-Should-Retry": "true" },
    });
    expect(await failure(provider.createIntent(intentReq()))).toMatchObject({ retryable: true, providerCode: "lock_timeout" });
    stripe.injectFault({ kind: "http", status: 500, headers: { "Stripe-Should-Retry": "false" } });
    expect(await failure(provider.createIntent(intentReq()))).toMatchObject({ retryable: false, httpStatus: 500 });
  });

  it("maps a network failure to retryable network_error", async () => {
    const { stripe, provider } = setup();
    stripe.injectFault({ kind: "network" });
    const err = await failure(provider.createIntent(intentReq()));
    expect(err).toMatchObject({ retryable: true, providerCode: "network_error", httpStatus: undefined });
    expect(err.cause).toBeInstanceOf(TypeError);
  });

  it("gives up after timeoutMs and reports a retryable timeout", async () => {
    const { stripe, provider } = setup({ timeoutMs: 50 });
    stripe.injectFault({ kind: "hang" });
    const started = Date.now();
    const err = await failure(provider.createIntent(intentReq()));
    expect(err).toMatchObject({ retryable: true, providerCode: "timeout" });
    expect(err.message).toContain("50 ms");
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("never puts the secret key in error text, even when the other side echoes it", async () => {
    const { stripe, provider } = setup({ fakeKey: "sk_test_theRightKeyIsThisOne00000000", echoKeyInErrors: true });
    const err = await failure(provider.createIntent(intentReq()));
    expect(err.httpStatus).toBe(401);
    stripe.injectFault({ kind: "http", status: 500, error: { type: "api_error", message: `upstream rejected Bearer ${KEY} (rk_live_abc123)` } });
    const err2 = await failure(provider.createIntent(intentReq()));
    for (const e of [err, err2]) {
      const text = `${e.message}\n${String(e)}\n${e.stack ?? ""}\n${JSON.stringify(e)}`;
      expect(text).not.toContain(KEY);
      expect(text).not.toContain(KEY.slice(8));
      expect(text).not.toContain("rk_live_abc123");
    }
    expect(err.message).toContain("Invalid API Key provided");
  });

  it("validates its configuration without echoing the key", () => {
    expect(() => new StripeProvider({ secretKey: "pk_test_publishable123" })).toThrow(/sk_\/rk_/);
    expect(() => new StripeProvider({ secretKey: "" })).toThrow();
    try {
      new StripeProvider({ secretKey: "pk_test_publishable123" });
    } catch (err) {
      expect(String(err)).not.toContain("publishable123");
    }
    expect(() => new StripeProvider({ secretKey: KEY, apiBase: "http://api.stripe.com" })).toThrow(/https/);
    expect(() => new StripeProvider({ secretKey: KEY, apiBase: "not a url" })).toThrow();
    expect(() => new StripeProvider({ secretKey: KEY, apiVersion: "latest" })).toThrow();
    expect(() => new StripeProvider({ secretKey: KEY, timeoutMs: 0 })).toThrow(RangeError);
    expect(() => new StripeProvider({ secretKey: KEY, apiBase: "http://localhost:12111" })).not.toThrow();
  });

  it("talks to a configured API base such as a local stripe-mock", async () => {
    const { stripe, provider } = setup({ apiBase: "http://localhost:12111/" });
    await provider.createIntent(intentReq());
    expect(stripe.lastRequest.url).toBe("http://localhost:12111/v1/payment_intents");
  });
});

describe("StripeProvider.cancelIntent", () => {
  it("POSTs to the intent's cancel endpoint with the idempotency key", async () => {
    const { stripe, provider } = setup();
    const ref = await provider.createIntent(intentReq());
    await provider.cancelIntent(ref.intentId, "cancel-1");
    const sent = stripe.lastRequest;
    expect(sent.method).toBe("POST");
    expect(sent.path).toBe(`/v1/payment_intents/${ref.intentId}/cancel`);
    expect(sent.headers.get("Idempotency-Key")).toBe("cancel-1");
    expect(sent.headers.get("Stripe-Version")).toBe(STRIPE_API_VERSION);
    expect(sent.rawBody).toBe("");
    expect(stripe.intents.get(ref.intentId)!.status).toBe("canceled");
  });

  it("resolves when the intent is already canceled (a second canceller, a retry with a new key)", async () => {
    const { stripe, provider } = setup();
    const ref = await provider.createIntent(intentReq());
    await provider.cancelIntent(ref.intentId, "cancel-a");
    await expect(provider.cancelIntent(ref.intentId, "cancel-b")).resolves.toBeUndefined();
    await expect(provider.cancelIntent(ref.intentId, "cancel-a")).resolves.toBeUndefined();
    expect(stripe.replays).toBe(1);
  });

  it("refuses, without retry, to cancel an intent that has been paid", async () => {
    const { stripe, provider } = setup();
    const ref = await provider.createIntent(intentReq());
    stripe.setIntentStatus(ref.intentId, "succeeded");
    const err = await failure(provider.cancelIntent(ref.intentId, "cancel-paid"));
    expect(err).toMatchObject({ retryable: false, providerCode: "payment_intent_unexpected_state", httpStatus: 400 });
    expect(err.message).toContain("status of succeeded");
    expect(stripe.intents.get(ref.intentId)!.status).toBe("succeeded");
  });

  it("maps an unknown intent to a non-retryable resource_missing", async () => {
    const { provider } = setup();
    expect(await failure(provider.cancelIntent("pi_doesNotExist", "cancel-x"))).toMatchObject({
      retryable: false,
      providerCode: "resource_missing",
      httpStatus: 404,
    });
  });

  it("maps a 503 during cancel to retryable", async () => {
    const { stripe, provider } = setup();
    const ref = await provider.createIntent(intentReq());
    stripe.injectFault({ kind: "http", status: 503 });
    expect((await failure(provider.cancelIntent(ref.intentId, "cancel-503"))).retryable).toBe(true);
    await provider.cancelIntent(ref.intentId, "cancel-503");
    expect(stripe.intents.get(ref.intentId)!.status).toBe("canceled");
  });

  it("never lets an intent id steer the request path", async () => {
    const { stripe, provider } = setup();
    for (const id of ["pi_x/../../v1/refunds", "../v1/refunds", "pi_x?expand=all", "ch_123", "", "pi_ x"]) {
      expect(await failure(provider.cancelIntent(id, "cancel-evil")), id).toMatchObject({ retryable: false, providerCode: "invalid_request" });
    }
    expect(stripe.requests).toHaveLength(0);
  });
});

describe("StripeProvider.refund", () => {
  it("POSTs /v1/refunds with payment_intent, amount and bracket metadata", async () => {
    const { stripe, provider } = setup();
    const ref = await provider.createIntent(intentReq());
    stripe.setIntentStatus(ref.intentId, "succeeded");
    const result = await provider.refund({
      intentId: ref.intentId,
      amountMinor: 1000,
      idempotencyKey: "refund-1",
      metadata: { reason_code: "event_cancelled", order_id: "order-9" },
    });
    const sent = stripe.lastRequest;
    expect(sent.path).toBe("/v1/refunds");
    expect(sent.headers.get("Idempotency-Key")).toBe("refund-1");
    expect(sent.headers.get("Authorization")).toBe(`Bearer ${KEY}`);
    expect(Object.fromEntries(sent.form)).toEqual({
      payment_intent: ref.intentId,
      amount: "1000",
      "metadata[reason_code]": "event_cancelled",
      "metadata[order_id]": "order-9",
    });
    expect(result.refundId).toMatch(/^re_/);
    expect(result.status).toBe("succeeded");
    expect(stripe.refunds.get(result.refundId)).toMatchObject({ amount: 1000, payment_intent: ref.intentId });
  });

  it("replays a retried refund instead of refunding twice", async () => {
    const { stripe, provider } = setup();
    const ref = await provider.createIntent(intentReq());
    stripe.setIntentStatus(ref.intentId, "succeeded");
    const req = { intentId: ref.intentId, amountMinor: 4250, idempotencyKey: "refund-full" };
    const first = await provider.refund(req);
    expect(await provider.refund(req)).toEqual(first);
    expect(stripe.refunds.size).toBe(1);
  });

  it("maps refusals (over-refund, unpaid intent) to non-retryable errors", async () => {
    const { stripe, provider } = setup();
    const ref = await provider.createIntent(intentReq());
    expect(await failure(provider.refund({ intentId: ref.intentId, amountMinor: 100, idempotencyKey: "refund-unpaid" }))).toMatchObject({
      retryable: false,
      httpStatus: 400,
    });
    stripe.setIntentStatus(ref.intentId, "succeeded");
    expect(await failure(provider.refund({ intentId: ref.intentId, amountMinor: 4251, idempotencyKey: "refund-over" }))).toMatchObject({
      retryable: false,
      providerCode: "amount_too_large",
    });
    await provider.refund({ intentId: ref.intentId, amountMinor: 4250, idempotencyKey: "refund-all" });
    expect(await failure(provider.refund({ intentId: ref.intentId, amountMinor: 1, idempotencyKey: "refund-again" }))).toMatchObject({
      retryable: false,
      providerCode: "charge_already_refunded",
    });
  });

  it("refuses bad refund input locally", async () => {
    const { stripe, provider } = setup();
    const bad: RefundRequest[] = [
      { intentId: "pi_1", amountMinor: 0, idempotencyKey: "k" },
      { intentId: "re_1", amountMinor: 10, idempotencyKey: "k" },
      { intentId: "pi_1", amountMinor: 10, idempotencyKey: "" },
      { intentId: "pi_1", amountMinor: 10, idempotencyKey: "k", metadata: { "a[b]": "x" } },
      { intentId: "pi_1", amountMinor: 10, idempotencyKey: "k", metadata: { k: "v".repeat(501) } },
    ];
    for (const req of bad) expect((await failure(provider.refund(req))).providerCode, JSON.stringify(req)).toBe("invalid_request");
    expect(stripe.requests).toHaveLength(0);
  });
});
