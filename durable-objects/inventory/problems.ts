import { ERROR_CATALOG, type ErrorCode } from "../../src/http/errors";
import type { InventoryProblem } from "../../src/inventory/contract";

/**
 * Refusals cross RPC as plain values (an exception would lose its class). Extras become
 * top-level fields of the problem details, so they must not reuse the reserved names
 * (type, title, status, detail, instance, code, requestId, errors).
 */
export function problem(code: ErrorCode, detail: string, extras?: Record<string, unknown>): InventoryProblem {
  return extras ? { ok: false, code, detail, extras } : { ok: false, code, detail };
}

export const statusOf = (code: ErrorCode): number => ERROR_CATALOG[code].status;
