import { loadConfig } from "../../src/config/env";
import { createDb } from "../../src/db/client";
import { purgeSpentCredentials } from "../../src/db/repositories/maintenance";
import { handleNotificationBatch } from "../../src/notifications/consumer";
import { log } from "../../src/observability/logger";
import { createApp } from "./app";

export { RateLimiter } from "../../durable-objects/rate-limiter";

const app = createApp();

export default {
  fetch: app.fetch,

  async scheduled(controller, env) {
    const config = loadConfig(env);
    const purged = await purgeSpentCredentials(createDb(config.DB), controller.scheduledTime);
    log("info", "maintenance: purged spent credentials", { cron: controller.cron, ...purged });
  },

  async queue(batch, env) {
    loadConfig(env);
    if (batch.queue.startsWith("boxoffice-notifications") && !batch.queue.endsWith("-dlq")) return handleNotificationBatch(batch, env);
    log("error", "message from an unknown queue; retrying later", { queue: batch.queue, size: batch.messages.length });
    batch.retryAll({ delaySeconds: 60 });
  },
} satisfies ExportedHandler<Env>;
