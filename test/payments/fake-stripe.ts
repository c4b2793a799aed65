/**
 * A fake Stripe API, as a `fetch` function, for the provider tests.
 *
 * It speaks Stripe's wire protocol rather than trusting the client: it decodes the
 * form body with URLSearchParams, insists on the headers a correct client sends
 * (Bearer key, pinned Stripe-Version, form content type, Idempotency-Key), refuses
 * unknown parameters the way Stripe does, and answers with Stripe-shaped objects
 * or Stripe's `{ error: { type, code, message } }`. Idempotency follows Stripe's
 * documented rules: a key replays the first result (with `Idempotent-Replayed:
 * true`), the same key with other parameters is an `idempotency_error`, and only
 * requests that got as far as executing store a result (validation failures and
 * injected faults do not, so a retry after them runs for real).
 *
 * Faults (HTTP errors, network errors, hangs, arbitrary bodies) can be queued to
 * exercise the client's error mapping; each is consumed by the next request.
 */

export type FakeFault =
  | { kind: "http"; status: number; error?: { type: string; code?: string; message?: string }; headers?: Record<string, string> }
  | { kind: "respond"; status: number; body: string; headers?: Record<string, string> }
  | { kind: "network" }
  /** Never answers; the request ends only when the client's AbortSignal fires. */
  | { kind: "hang" };

export interface RecordedRequest {
  method: string;
  url: string;
  path: string;
  headers: Headers;
  rawBody: string;
  form: URLSearchParams;
}

export interface FakeIntent {
  id: string;
  object: "payment_intent";
  amount: number;
  amount_capturable: number;
  amount_received: number;
  automatic_payment_methods: { enabled: boolean; allow_redirects: string } | null;
  canceled_at: number | null;
  cancellation_reason: string | null;
  capture_method: string;
  client_secret: string;
  confirmation_method: string;
  created: number;
  currency: string;
  description: string | null;
  last_payment_error: null;
  latest_charge: string | null;
  livemode: boolean;
  metadata: Record<string, string>;
  status: string;
}

export interface FakeRefund {
  id: string;
  object: "refund";
  amount: number;
  charge: string | null;
  created: number;
  currency: string;
  metadata: Record<string, string>;
  payment_intent: string;
  reason: string | null;
  status: string;
}

interface StoredResult {
  fingerprint: string;
  status: number;
  body: string;
}

interface Answer {
  status: number;
  body: unknown;
  /** Whether Stripe would store this under the idempotency key (the endpoint started executing). */
  store: boolean;
}

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
function randomId(length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return Array.from(bytes, (b) => ALNUM[b % ALNUM.length]).join("");
}

function stripeError(status: number, error: { type: string; code?: string; message: string; param?: string; [k: string]: unknown }): Answer {
  return { status, body: { error }, store: false };
}

function invalid(message: string, code?: string, param?: string): Answer {
  return stripeError(400, { type: "invalid_request_error", message, ...(code ? { code } : {}), ...(param ? { param } : {}) });
}

export class FakeStripe {
  readonly requests: RecordedRequest[] = [];
  readonly intents = new Map<string, FakeIntent>();
  readonly refunds = new Map<string, FakeRefund>();
  /** How many requests were answered from the idempotency store. */
  replays = 0;
  private readonly faults: FakeFault[] = [];
  private readonly stored = new Map<string, StoredResult>();
  private readonly origin: string;

  constructor(
    private readonly options: {
      secretKey: string;
      apiVersion: string;
      apiBase?: string;
      /** Echo the presented key in auth errors, to prove the client scrubs its messages. */
      echoKeyInErrors?: boolean;
    },
  ) {
    this.origin = new URL(options.apiBase ?? "https://api.stripe.com").origin;
  }

  injectFault(...faults: FakeFault[]): void {
    this.faults.push(...faults);
  }

  /** Moves an intent along as a buyer or Stripe would (e.g. to "succeeded" after payment). */
  setIntentStatus(id: string, status: string): void {
    const intent = this.intents.get(id);
    if (!intent) throw new Error(`fake has no intent ${id}`);
    intent.status = status;
    if (status === "succeeded") {
      intent.amount_received = intent.amount;
      intent.latest_charge = `ch_${randomId(24)}`;
    }
  }

  get lastRequest(): RecordedRequest {
    const last = this.requests.at(-1);
    if (!last) throw new Error("fake received no request");
    return last;
  }

  readonly fetch: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    // Decoded by hand: form bodies are ASCII, and workerd warns about .text() on non-text types.
    const rawBody = new TextDecoder().decode(await request.arrayBuffer());
    const url = new URL(request.url);
    const recorded: RecordedRequest = {
      method: request.method,
      url: request.url,
      path: url.pathname,
      headers: request.headers,
      rawBody,
      form: new URLSearchParams(rawBody),
    };
    this.requests.push(recorded);

    const fault = this.faults.shift();
    if (fault) return this.applyFault(fault, init?.signal ?? undefined);

    if (url.origin !== this.origin) throw new TypeError(`fake Stripe only serves ${this.origin}, got ${url.origin}`);
    const answer = this.handle(recorded);
    if (answer instanceof Response) return answer;
    return this.respond(answer.status, JSON.stringify(answer.body), recorded);
  };

  private async applyFault(fault: FakeFault, signal: AbortSignal | undefined): Promise<Response> {
    switch (fault.kind) {
      case "network":
        // What workerd's fetch throws when the connection drops.
        throw new TypeError("Network connection lost.");
      case "hang":
        return new Promise<Response>((_, reject) => {
          if (!signal) return;
          if (signal.aborted) reject(signal.reason);
          signal.addEventListener("abort", () => reject(signal.reason), { once: true });
        });
      case "respond":
        return new Response(fault.body, { status: fault.status, headers: fault.headers ?? {} });
      case "http":
        return new Response(
          JSON.stringify({ error: fault.error ?? { type: "api_error", message: "An unknown error occurred" } }),
          { status: fault.status, headers: { "Content-Type": "application/json", "Request-Id": `req_${randomId(14)}`, ...fault.headers } },
        );
    }
  }

  private respond(status: number, body: string, req: RecordedRequest, replayed = false): Response {
    const headers = new Headers({
      "Content-Type": "application/json",
      "Request-Id": `req_${randomId(14)}`,
      "Stripe-Version": this.options.apiVersion,
    });
    const key = req.headers.get("Idempotency-Key");
    if (key) headers.set("Idempotency-Key", key);
    if (replayed) headers.set("Idempotent-Replayed", "true");
    return new Response(body, { status, headers });
  }

  private handle(req: RecordedRequest): Answer | Response {
    // Authentication comes first, as on Stripe.
    const auth = req.headers.get("Authorization");
    if (auth !== `Bearer ${this.options.secretKey}`) {
      const presented = auth?.replace(/^Bearer /, "") ?? "";
      const shown = this.options.echoKeyInErrors ? presented : `${presented.slice(0, 8)}****${presented.slice(-4)}`;
      return stripeError(401, { type: "invalid_request_error", message: `Invalid API Key provided: ${shown}` });
    }
    if (req.headers.get("Stripe-Version") !== this.options.apiVersion) {
      return invalid(`Invalid Stripe API version: ${req.headers.get("Stripe-Version") ?? "(none)"}`);
    }
    if (req.method !== "POST") return stripeError(404, { type: "invalid_request_error", message: `Unrecognized request URL (${req.method}: ${req.path}).` });
    const contentType = req.headers.get("Content-Type") ?? "";
    if (contentType.split(";")[0]!.trim() !== "application/x-www-form-urlencoded") {
      return invalid(`Invalid request: unsupported Content-Type ${contentType}. Use application/x-www-form-urlencoded.`);
    }
    // Stripe does not demand the header, but every call this client makes must carry one.
    const key = req.headers.get("Idempotency-Key");
    if (!key) return invalid("fake Stripe: every request must carry an Idempotency-Key");
    if (key.length > 255) return invalid("Idempotency-Key must be at most 255 characters", undefined, "idempotency_key");

    const names = [...req.form.keys()];
    if (new Set(names).size !== names.length) return invalid("fake Stripe: a parameter was sent twice");

    const fingerprint = `${req.method} ${req.path}\n${[...req.form].map(([k, v]) => `${k}=${v}`).sort().join("&")}`;
    const previous = this.stored.get(key);
    if (previous) {
      if (previous.fingerprint !== fingerprint) {
        return stripeError(400, {
          type: "idempotency_error",
          message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
        });
      }
      this.replays += 1;
      return this.respond(previous.status, previous.body, req, true);
    }

    const answer = this.route(req);
    if (answer.store) this.stored.set(key, { fingerprint, status: answer.status, body: JSON.stringify(answer.body) });
    return answer;
  }

  private route(req: RecordedRequest): Answer {
    if (req.path === "/v1/payment_intents") return this.createIntent(req.form);
    const cancel = /^\/v1\/payment_intents\/([^/]+)\/cancel$/.exec(req.path);
    if (cancel) return this.cancelIntent(decodeURIComponent(cancel[1]!), req.form);
    if (req.path === "/v1/refunds") return this.createRefund(req.form);
    return stripeError(404, { type: "invalid_request_error", message: `Unrecognized request URL (${req.method}: ${req.path}).` });
  }

  /** Stripe's answer to a parameter it does not know, or to one it knows but not in that shape. */
  private unknownParams(form: URLSearchParams, allowed: (name: string) => boolean): Answer | null {
    for (const name of form.keys()) {
      if (!allowed(name)) return invalid(`Received unknown parameter: ${name}`, "parameter_unknown", name);
    }
    return null;
  }

  private metadataFrom(form: URLSearchParams): Record<string, string> {
    const metadata: Record<string, string> = {};
    for (const [name, value] of form) {
      const match = /^metadata\[([^\][]+)\]$/.exec(name);
      if (match) metadata[match[1]!] = value;
    }
    return metadata;
  }

  private positiveInteger(form: URLSearchParams, name: string): number | Answer {
    const raw = form.get(name);
    if (raw === null) return invalid(`Missing required param: ${name}.`, "parameter_missing", name);
    if (!/^\d+$/.test(raw) || Number(raw) < 1) return invalid(`Invalid integer: ${raw}`, "parameter_invalid_integer", name);
    return Number(raw);
  }

  private createIntent(form: URLSearchParams): Answer {
    const unknown = this.unknownParams(form, (n) =>
      ["amount", "currency", "description", "automatic_payment_methods[enabled]"].includes(n) || /^metadata\[[^\][]+\]$/.test(n),
    );
    if (unknown) return unknown;
    const amount = this.positiveInteger(form, "amount");
    if (typeof amount !== "number") return amount;
    const currency = form.get("currency");
    if (currency === null) return invalid("Missing required param: currency.", "parameter_missing", "currency");
    if (!/^[a-z]{3}$/.test(currency)) return invalid(`Invalid currency: ${currency}.`, "parameter_invalid_string", "currency");
    const apm = form.get("automatic_payment_methods[enabled]");
    if (apm !== null && apm !== "true" && apm !== "false") {
      return invalid(`Invalid boolean: ${apm}`, "parameter_invalid_boolean", "automatic_payment_methods[enabled]");
    }

    const id = `pi_${randomId(24)}`;
    const intent: FakeIntent = {
      id,
      object: "payment_intent",
      amount,
      amount_capturable: 0,
      amount_received: 0,
      automatic_payment_methods: apm === "true" ? { enabled: true, allow_redirects: "always" } : null,
      canceled_at: null,
      cancellation_reason: null,
      capture_method: "automatic_async",
      client_secret: `${id}_secret_${randomId(25)}`,
      confirmation_method: "automatic",
      created: Math.floor(Date.now() / 1000),
      currency,
      description: form.get("description"),
      last_payment_error: null,
      latest_charge: null,
      livemode: false,
      metadata: this.metadataFrom(form),
      status: "requires_payment_method",
    };
    this.intents.set(id, intent);
    return { status: 200, body: intent, store: true };
  }

  private cancelIntent(id: string, form: URLSearchParams): Answer {
    const unknown = this.unknownParams(form, (n) => n === "cancellation_reason");
    if (unknown) return unknown;
    const intent = this.intents.get(id);
    if (!intent) {
      return stripeError(404, { type: "invalid_request_error", code: "resource_missing", param: "intent", message: `No such payment_intent: '${id}'` });
    }
    if (intent.status === "canceled" || intent.status === "succeeded") {
      const answer = stripeError(400, {
        type: "invalid_request_error",
        code: "payment_intent_unexpected_state",
        message: `You cannot cancel this PaymentIntent because it has a status of ${intent.status}.`,
        payment_intent: { ...intent },
      });
      return { ...answer, store: true };
    }
    intent.status = "canceled";
    intent.canceled_at = Math.floor(Date.now() / 1000);
    intent.cancellation_reason = form.get("cancellation_reason");
    return { status: 200, body: intent, store: true };
  }

  private createRefund(form: URLSearchParams): Answer {
    const unknown = this.unknownParams(form, (n) => ["payment_intent", "amount"].includes(n) || /^metadata\[[^\][]+\]$/.test(n));
    if (unknown) return unknown;
    const intentId = form.get("payment_intent");
    if (intentId === null) return invalid("Missing required param: payment_intent.", "parameter_missing", "payment_intent");
    const amount = this.positiveInteger(form, "amount");
    if (typeof amount !== "number") return amount;
    const intent = this.intents.get(intentId);
    if (!intent) return invalid(`No such payment_intent: '${intentId}'`, "resource_missing", "payment_intent");

    let refusal: Answer | null = null;
    const refunded = [...this.refunds.values()].filter((r) => r.payment_intent === intentId).reduce((sum, r) => sum + r.amount, 0);
    if (intent.status !== "succeeded") {
      refusal = invalid(`This PaymentIntent (${intentId}) does not have a successful charge to refund.`);
    } else if (refunded >= intent.amount) {
      refusal = invalid(`Charge ${intent.latest_charge} has already been refunded.`, "charge_already_refunded");
    } else if (amount > intent.amount - refunded) {
      refusal = invalid(`Refund amount (${amount}) is greater than unrefunded amount on charge (${intent.amount - refunded})`, "amount_too_large", "amount");
    }
    // These refusals come from executing the request, so Stripe stores them.
    if (refusal) return { ...refusal, store: true };

    const refund: FakeRefund = {
      id: `re_${randomId(24)}`,
      object: "refund",
      amount,
      charge: intent.latest_charge,
      created: Math.floor(Date.now() / 1000),
      currency: intent.currency,
      metadata: this.metadataFrom(form),
      payment_intent: intentId,
      reason: null,
      status: "succeeded",
    };
    this.refunds.set(refund.id, refund);
    return { status: 200, body: refund, store: true };
  }
}
