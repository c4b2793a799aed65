import { loadConfig } from "../../src/config/env";
import { createDb } from "../../src/db/client";
import { purgeSentOutbox, purgeSpentCredentials } from "../../src/db/repositories/maintenance";
import { runAutoTransitions } from "../../src/events/auto-transitions";
import { resyncLaggingGates } from "../../src/events/status-change";
import { handleNotificationBatch } from "../../src/notifications/consumer";
import { errorFields, log } from "../../src/observability/logger";
import { drainOutbox } from "../../src/outbox/drain";
import { createApp } from "./app";

export { EventInventory } from "../../durable-objects/event-inventory";
export { RateLimiter } from "../../durable-objects/rate-limiter";

const app = createApp();

export default {
  fetch: app.fetch,

  /**
   * Every tick, with the controller's scheduledTime as the clock: clock-driven event
   * transitions, then the sales gates of recently changed events (pushed to their
   * inventories), then the outbox (their messages and any a request's drain left
   * behind), then purges. Each job runs even if an earlier one failed; a failure still fails the
   * invocation so it shows in the cron's history.
   */
  async scheduled(controller, env) {
    const config = loadConfig(env);
    const db = createDb(config.DB);
    const now = controller.scheduledTime;
    const jobs: [string, () => Promise<object>][] = [
      ["auto-transitions", () => runAutoTransitions(db, now)],
      // After the transitions, so the gates they changed reach the events' inventories this tick.
      ["gate resync", () => resyncLaggingGates(db, config.EVENT_INVENTORY)],
      ["outbox drain", () => drainOutbox(db, { notifications: config.NOTIFICATIONS }, now)],
      ["purge spent credentials", () => purgeSpentCredentials(db, now)],
      ["purge sent outbox", () => purgeSentOutbox(db, now)],
    ];
    const failed: string[] = [];
    for (const [name, job] of jobs) {
      try {
        log("info", `maintenance: ${name}`, { cron: controller.cron, scheduledTime: now, ...(await job()) });
      } catch (err) {
        failed.push(name);
        log("error", `maintenance: ${name} failed`, { cron: controller.cron, scheduledTime: now, ...errorFields(err) });
      }
    }
    if (failed.length) throw new Error(`scheduled jobs failed: ${failed.join(", ")}`);
  },

  async queue(batch, env) {
    loadConfig(env);
    if (batch.queue.startsWith("boxoffice-notifications") && !batch.queue.endsWith("-dlq")) return handleNotificationBatch(batch, env);
    log("error", "message from an unknown queue; retrying later", { queue: batch.queue, size: batch.messages.length });
    batch.retryAll({ delaySeconds: 60 });
  },
} satisfies ExportedHandler<Env>;
