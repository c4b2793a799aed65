import { describe, expect, it } from "vitest";
import { LocalPaymentProvider, paymentProviderFor, STRIPE_API_VERSION, StripeProvider } from "../../src/payments";
import { FakeStripe } from "./fake-stripe";

const KEY = "sk_test_51FactoryTestKey0000000000";
const WEBHOOK_SECRET = "whsec_factory_test_secret";

describe("paymentProviderFor", () => {
  it("returns the local provider for PAYMENT_PROVIDER=local", () => {
    const provider = paymentProviderFor({ PAYMENT_PROVIDER: "local", PAYMENT_WEBHOOK_SECRET: WEBHOOK_SECRET });
    expect(provider).toBeInstanceOf(LocalPaymentProvider);
    expect(provider.name).toBe("local");
  });

  it("returns a Stripe provider wired to the given fetch and API base", async () => {
    const stripe = new FakeStripe({ secretKey: KEY, apiVersion: STRIPE_API_VERSION, apiBase: "http://127.0.0.1:12111" });
    const provider = paymentProviderFor(
      { PAYMENT_PROVIDER: "stripe", STRIPE_SECRET_KEY: KEY, STRIPE_API_BASE: "http://127.0.0.1:12111", PAYMENT_WEBHOOK_SECRET: WEBHOOK_SECRET },
      stripe.fetch,
    );
    expect(provider).toBeInstanceOf(StripeProvider);
    const ref = await provider.createIntent({
      tenantId: "t",
      eventId: "e",
      orderId: "o",
      amountMinor: 100,
      currency: "USD",
      idempotencyKey: "factory-1",
    });
    expect(ref.provider).toBe("stripe");
    expect(stripe.lastRequest.url).toBe("http://127.0.0.1:12111/v1/payment_intents");
  });

  it("fails loudly on missing configuration", () => {
    expect(() => paymentProviderFor({ PAYMENT_PROVIDER: "stripe", PAYMENT_WEBHOOK_SECRET: WEBHOOK_SECRET })).toThrow(/STRIPE_SECRET_KEY/);
    expect(() => paymentProviderFor({ PAYMENT_PROVIDER: "local", PAYMENT_WEBHOOK_SECRET: "" })).toThrow(/PAYMENT_WEBHOOK_SECRET/);
    expect(() =>
      paymentProviderFor({ PAYMENT_PROVIDER: "bogus" as "local", PAYMENT_WEBHOOK_SECRET: WEBHOOK_SECRET }),
    ).toThrow(/unknown PAYMENT_PROVIDER/);
  });
});
