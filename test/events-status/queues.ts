import { createExecutionContext, createMessageBatch, createScheduledController, getQueueResult, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import api from "../../workers/api/index";
import { envWith } from "../http/app-harness";

// Called as the runtime calls it: (event, env, ctx).
export const worker: ExportedHandler<Env> = api;

export const NOTIFICATIONS_QUEUE = "boxoffice-notifications";

/** A NOTIFICATIONS binding that records what it was given instead of sending it. */
export function recordingQueue() {
  const bodies: Record<string, unknown>[] = [];
  const queue = {
    bodies,
    async send(body: unknown) {
      bodies.push(body as Record<string, unknown>);
    },
    async sendBatch(messages: Iterable<MessageSendRequest>) {
      for (const m of messages) bodies.push(m.body as Record<string, unknown>);
    },
  };
  return queue;
}

/** A NOTIFICATIONS binding that is down: every send throws. */
export function failingQueue(message = "queue unavailable (test)") {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    async send() {
      calls++;
      throw new Error(message);
    },
    async sendBatch() {
      calls++;
      throw new Error(message);
    },
  };
}

export const envWithQueue = (queue: object) => envWith({ NOTIFICATIONS: queue });

/** Runs the worker's cron handler at `scheduledTime`, as the runtime would. */
export async function runCron(scheduledTime: number, workerEnv: Env = env) {
  const ctx = createExecutionContext();
  await worker.scheduled!(createScheduledController({ scheduledTime, cron: "*/5 * * * *" }), workerEnv, ctx);
  await waitOnExecutionContext(ctx);
}

/** Runs one batch through the worker's queue handler; returns what it acked and retried. */
export async function deliver(messages: { id: string; body: unknown; attempts?: number }[]) {
  const batch = createMessageBatch(
    NOTIFICATIONS_QUEUE,
    messages.map((m) => ({ id: m.id, timestamp: Date.now(), attempts: m.attempts ?? 1, body: m.body })),
  );
  const ctx = createExecutionContext();
  await worker.queue!(batch, env, ctx);
  return getQueueResult(batch, ctx);
}
