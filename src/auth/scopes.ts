/**
 * Scopes an API key can carry. Keys are for other services, so each scope is a
 * narrow capability; routes name the scope they need next to the roles they allow.
 * Later issues add their scopes here (events, orders, check-in).
 */
export const SCOPES = [
  "users:read",
  "users:write",
  "audit:read",
  "venues:read",
  "venues:write",
  "events:read",
  "events:write",
  "orders:read",
  "refunds:write",
  "checkin:write",
  "reports:read",
] as const;
export type Scope = (typeof SCOPES)[number];
