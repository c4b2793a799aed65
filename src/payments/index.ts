import { LocalPaymentProvider } from "./local";
import type { PaymentProvider } from "./provider";
import { StripeProvider } from "./stripe";

export * from "./provider";
export * from "./stripe-signature";
export { STRIPE_API_BASE, STRIPE_API_VERSION, StripeProvider, type StripeProviderOptions } from "./stripe";
export { buildLocalWebhook, LocalPaymentProvider, type LocalWebhookArgs, type LocalWebhookType } from "./local";

export interface PaymentConfig {
  PAYMENT_PROVIDER: "stripe" | "local";
  STRIPE_SECRET_KEY?: string;
  STRIPE_API_BASE?: string;
  /** Stripe's whsec_... for "stripe"; any strong secret for "local", which signs its own events with it. */
  PAYMENT_WEBHOOK_SECRET: string;
}

/**
 * Picks the provider for a deployment. Misconfiguration throws here, at the first
 * request, rather than surfacing as a failed payment later. Nothing here stops
 * "local" in production: the environment check belongs with the rest of config
 * validation, which knows which environment it is in.
 */
export function paymentProviderFor(config: PaymentConfig, fetchImpl?: typeof fetch): PaymentProvider {
  if (!config.PAYMENT_WEBHOOK_SECRET) throw new Error("PAYMENT_WEBHOOK_SECRET is required");
  switch (config.PAYMENT_PROVIDER) {
    case "stripe": {
      if (!config.STRIPE_SECRET_KEY) throw new Error("STRIPE_SECRET_KEY is required when PAYMENT_PROVIDER is stripe");
      return new StripeProvider({
        secretKey: config.STRIPE_SECRET_KEY,
        ...(config.STRIPE_API_BASE ? { apiBase: config.STRIPE_API_BASE } : {}),
        ...(fetchImpl ? { fetch: fetchImpl } : {}),
      });
    }
    case "local":
      return new LocalPaymentProvider({ webhookSecret: config.PAYMENT_WEBHOOK_SECRET });
    default: {
      // Unreachable for typed callers; guards against an unvalidated env string.
      const unknown: never = config.PAYMENT_PROVIDER;
      throw new Error(`unknown PAYMENT_PROVIDER ${String(unknown)}`);
    }
  }
}
