/**
 * Errors are values with stable codes. Each code maps to exactly one HTTP status
 * and title here; routes throw `new AppError("CODE", detail)` and the global
 * handler renders RFC 9457 problem details. Clients switch on `code`, never on text.
 */
export const ERROR_CATALOG = {
  VALIDATION_FAILED: { status: 400, title: "Request validation failed" },
  MALFORMED_JSON: { status: 400, title: "Malformed JSON body" },
  BAD_REQUEST: { status: 400, title: "Bad request" },
  IDEMPOTENCY_KEY_MISSING: { status: 400, title: "Send an Idempotency-Key header" },
  IDEMPOTENCY_KEY_MALFORMED: { status: 400, title: "Idempotency-Key must be 1-255 visible ASCII characters" },
  UNAUTHENTICATED: { status: 401, title: "Authentication required" },
  INVALID_CREDENTIALS: { status: 401, title: "Invalid credentials" },
  TOKEN_INVALID: { status: 401, title: "Invalid or expired token" },
  REFRESH_TOKEN_REUSED: { status: 401, title: "Refresh token reuse detected" },
  FORBIDDEN: { status: 403, title: "Forbidden" },
  INSUFFICIENT_SCOPE: { status: 403, title: "API key lacks the required scope" },
  EMAIL_NOT_VERIFIED: { status: 403, title: "Email address not verified" },
  NOT_FOUND: { status: 404, title: "Not found" },
  METHOD_NOT_ALLOWED: { status: 405, title: "Method not allowed" },
  CONFLICT: { status: 409, title: "Conflict" },
  EMAIL_TAKEN: { status: 409, title: "Email already registered" },
  TENANT_SLUG_TAKEN: { status: 409, title: "Tenant slug already in use" },
  LAST_OWNER: { status: 409, title: "A tenant must keep at least one active owner" },
  SLUG_TAKEN: { status: 409, title: "Slug already used at this venue" },
  INVALID_TRANSITION: { status: 409, title: "Status transition not allowed" },
  VERSION_CONFLICT: { status: 409, title: "The resource was changed by someone else" },
  SCHEDULE_LOCKED: { status: 409, title: "Schedule and venue of a published event change through a reschedule" },
  EVENT_NOT_DELETABLE: { status: 409, title: "Only unpublished or finished events can be deleted" },
  PRECONDITION_FAILED: { status: 412, title: "If-Match does not match the current version" },
  PRECONDITION_REQUIRED: { status: 428, title: "Send If-Match or the version you are updating" },
  VENUE_ACCESS_DENIED: { status: 403, title: "No access to this venue" },
  PAYLOAD_TOO_LARGE: { status: 413, title: "Request body too large" },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: "Unsupported media type" },
  ONE_TIME_TOKEN_INVALID: { status: 422, title: "Token is invalid, expired or already used" },
  WEAK_PASSWORD: { status: 422, title: "Password does not meet the policy" },
  LOGIN_THROTTLED: { status: 429, title: "Too many failed login attempts" },
  INTERNAL: { status: 500, title: "Internal server error" },
  CONFIG_INVALID: { status: 500, title: "Service misconfigured" },
  DEPENDENCY_UNAVAILABLE: { status: 503, title: "A dependency is unavailable" },
  // Sales (the EventInventory Durable Object decides these; see src/inventory/contract.ts).
  EVENT_NOT_ON_SALE: { status: 409, title: "The event is not on sale" },
  OUTSIDE_SALES_WINDOW: { status: 409, title: "Outside the sales window" },
  UNKNOWN_TIER: { status: 422, title: "The event has no such ticket tier" },
  QUANTITY_OUT_OF_RANGE: { status: 422, title: "Quantity outside the tier's per-order limits" },
  CURRENCY_MISMATCH: { status: 422, title: "Tiers in one hold must share a currency" },
  BUYER_LIMIT_EXCEEDED: { status: 409, title: "Over the per-buyer limit for this tier" },
  SOLD_OUT: { status: 409, title: "Not enough tickets left" },
  CAPACITY_BELOW_COMMITTED: { status: 409, title: "Capacity cannot go below tickets held and sold" },
  HOLD_NOT_FOUND: { status: 404, title: "Hold not found" },
  HOLD_EXPIRED: { status: 410, title: "The hold has expired" },
  HOLD_CONVERTED: { status: 409, title: "The hold was already checked out" },
  TIER_NOT_IN_FORCE: { status: 409, title: "The tier's latest configuration is not in force yet" },
  HOLD_RATE_LIMITED: { status: 429, title: "Too many holds; slow down" },
  PROTECTED_FIELD: { status: 409, title: "Tickets are sold: this field is protected" },
  TICKET_NOT_FOUND: { status: 404, title: "Ticket not found" },
  TICKET_CODE_INVALID: { status: 422, title: "Not a valid ticket code" },
  TICKET_WRONG_EVENT: { status: 422, title: "The ticket is for another event" },
  TICKET_ALREADY_CHECKED_IN: { status: 409, title: "The ticket was already admitted" },
  TICKET_REFUNDED: { status: 409, title: "The ticket was refunded" },
  TICKET_CANCELLED: { status: 409, title: "The ticket was cancelled" },
  TICKET_CODE_SUPERSEDED: { status: 409, title: "This code was replaced (ticket transferred or reissued)" },
  TRANSFER_NOT_ALLOWED: { status: 409, title: "The ticket cannot be transferred" },
  REFUND_NOT_ALLOWED: { status: 409, title: "The order cannot be refunded like this" },
  REFUND_AMOUNT_INVALID: { status: 422, title: "Refund amount out of range" },
  WAITLIST_TIER_AVAILABLE: { status: 409, title: "Tickets are available: hold them instead of waiting" },
  WAITLIST_DUPLICATE: { status: 409, title: "Already waiting for this tier" },
  WAITLIST_ENTRY_NOT_FOUND: { status: 404, title: "Waitlist entry not found" },
  HOLD_RELEASED: { status: 409, title: "The hold was released" },
  ORDER_NOT_FOUND: { status: 404, title: "Order not found" },
  ORDER_EXPIRED: { status: 410, title: "The order's payment deadline passed" },
  PAYMENT_PROVIDER_ERROR: { status: 502, title: "The payment provider refused the request" },
  WEBHOOK_SIGNATURE_INVALID: { status: 400, title: "Webhook signature invalid" },
  IDEMPOTENCY_KEY_REUSED: { status: 422, title: "Idempotency-Key reused with a different request" },
  IDEMPOTENCY_IN_FLIGHT: { status: 409, title: "A request with this Idempotency-Key is still in progress" },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export interface FieldError {
  /** Dotted location: `body.<path>`, `params.<name>`, `query.<name>` or `headers.<name>`. */
  field: string;
  message: string;
}

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    readonly detail?: string,
    readonly extras: { errors?: FieldError[]; headers?: Record<string, string>; [k: string]: unknown } = {},
  ) {
    super(detail ?? ERROR_CATALOG[code].title);
    this.name = "AppError";
    this.status = ERROR_CATALOG[code].status;
  }
}

export const problemType = (code: ErrorCode) => `https://boxoffice.dev/problems/${code.toLowerCase().replaceAll("_", "-")}`;
