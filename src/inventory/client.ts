import type { Context } from "hono";
import type { EventInventory } from "../../durable-objects/event-inventory";
import type { AppEnv } from "../http/context";
import { AppError } from "../http/errors";
import { errorFields, log } from "../observability/logger";
import { tenantOf } from "../auth/authenticate";
import type { UserPrincipal } from "../auth/principal";
import { seesEveryEvent, visibleEvent } from "../domain/event-access";
import { inventoryName, type IdempotentOutcome, type InventoryProblem, type InventoryResult, type NotVisible } from "./contract";

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

/**
 * A buyer's sale call (hold, checkout) on an event of their tenant, without a D1 read on the
 * hot path (contract `NotVisible`). An event this isolate has already found in D1 for a buyer
 * (`knownEvents`) goes to the DO's `…IfPublic` method first, served when the DO's gate shows
 * the event publicly on sale. Otherwise, and for staff, the D1 lookup decides: 404 for a
 * missing, foreign or (to buyers) unlisted event, else the plain method runs and the DO's own
 * rules answer (not on sale, outside the window, ...), exactly as when every call looked the
 * event up first. So an id nobody has found in D1 never reaches a DO: a buyer cannot make the
 * platform create objects for made-up event ids.
 */
export async function onVisibleEvent<T extends object>(
  c: Context<AppEnv>,
  buyer: UserPrincipal,
  eventId: string,
  calls: { ifPublic: () => Promise<T | NotVisible>; plain: () => Promise<T> },
): Promise<T> {
  const key = inventoryName(buyer.tenantId, eventId);
  if (!seesEveryEvent(buyer) && knownEvents.has(key)) {
    const fast = await calls.ifPublic();
    if (!("kind" in fast && fast.kind === "not_visible")) return fast as T;
  }
  await visibleEvent(buyer, tenantOf(c).db, eventId);
  remember(key);
  return calls.plain();
}

/**
 * Events of a tenant that D1 showed to a buyer in this isolate. It only says the event
 * existed: whether buyers may buy now is the DO gate's answer on every call, and an event
 * is deleted only once its DO holds a gate that no longer sells (src/domain/event-writes.ts).
 */
const knownEvents = new Set<string>();
const KNOWN_EVENTS_MAX = 10_000;

function remember(key: string): void {
  if (knownEvents.has(key)) return;
  if (knownEvents.size >= KNOWN_EVENTS_MAX) knownEvents.delete(knownEvents.values().next().value!);
  knownEvents.add(key);
}
