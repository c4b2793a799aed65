import type { Context } from "hono";
import type { EventInventory } from "../../durable-objects/event-inventory";
import type { AppEnv } from "../http/context";
import { AppError } from "../http/errors";
import { errorFields, log } from "../observability/logger";
import { inventoryName, type IdempotentOutcome, type InventoryProblem, type InventoryResult } from "./contract";

/**
 * The API worker's side of the EventInventory contract: the stub of one event's DO, and the
 * one place its plain-data answers become HTTP (problems, idempotent replays).
 */
export type InventoryNamespace = DurableObjectNamespace<EventInventory>;
export type InventoryStub = DurableObjectStub<EventInventory>;

/** The event's DO. The name carries the tenant id, so a stub can never reach another tenant's event. */
export function inventoryOf(ns: InventoryNamespace, tenantId: string, eventId: string): InventoryStub {
  return ns.get(ns.idFromName(inventoryName(tenantId, eventId)));
}

/** The DO of an event of the request's tenant (the caller has already found the event in D1). */
export function inventoryFor(c: Context<AppEnv>, tenantId: string, eventId: string): InventoryStub {
  return inventoryOf(c.var.config.EVENT_INVENTORY, tenantId, eventId);
}

export const problemError = (p: InventoryProblem) => new AppError(p.code, p.detail, { ...p.extras });

/** The value of a result, or its refusal thrown as the matching problem. */
export function unwrap<T>(result: InventoryResult<T>): T {
  if (!result.ok) throw problemError(result);
  return result.value;
}

/**
 * Awaits an RPC to the DO. A refusal is a value, never an exception; an exception means the
 * object could not be reached or broke (overloaded, reset, a bug), which the caller sees as
 * 503 DEPENDENCY_UNAVAILABLE. For an idempotent call it is then safe, and right, to retry
 * with the same key: a call that did commit is replayed, one that did not runs.
 */
export async function rpc<T>(what: string, call: Promise<unknown>): Promise<T> {
  try {
    // RPC results are structured clones of the DO's plain-data return values.
    return (await call) as T;
  } catch (err) {
    log("error", `inventory: ${what} failed`, errorFields(err));
    throw new AppError("DEPENDENCY_UNAVAILABLE", "The event's inventory is unavailable; retry shortly", {
      headers: { "retry-after": "1" },
    });
  }
}

/**
 * An idempotent call's outcome (IETF Idempotency-Key draft): the stored or fresh success
 * value, with `Idempotency-Replayed: true` set when it came from the record; a stored or
 * fresh refusal thrown as its problem (replay marked the same way); the key used with
 * another request is 422; the key still being processed is 409 with Retry-After.
 * Successes always carry the operation's one success status, so the route answers it.
 */
export function settle<T>(c: Context<AppEnv>, outcome: IdempotentOutcome<T>): T {
  if (outcome.kind === "key_reused") {
    throw new AppError("IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key was used for a different request; use a new key for a new request");
  }
  if (outcome.kind === "in_flight") {
    throw new AppError("IDEMPOTENCY_IN_FLIGHT", "A request with this Idempotency-Key is still being processed; retry shortly", {
      headers: { "retry-after": "1" },
    });
  }
  const result = outcome.result;
  if (!result.ok) {
    const replayed: Record<string, string> = outcome.replayed ? { "idempotency-replayed": "true" } : {};
    throw new AppError(result.code, result.detail, { ...result.extras, headers: replayed });
  }
  if (outcome.replayed) c.header("idempotency-replayed", "true");
  return result.value;
}
