import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { EmailMessage } from "../../src/notifications/messages";
import api from "../../workers/api/index";
import { createTenant, unique, type TenantFixture } from "../helpers/fixtures";

// Called as the runtime calls it: (event, env, ctx).
const worker: ExportedHandler<Env> = api;

const QUEUE = "boxoffice-notifications";

let tenant: TenantFixture;
beforeAll(async () => {
  tenant = await createTenant();
});

const welcome = (to = `${unique("r")}@example.test`): EmailMessage => ({
  kind: "email",
  tenantId: tenant.id,
  to,
  template: "welcome",
  data: { name: "Ada" },
});

/**
 * Runs one batch through the worker's queue handler and returns what it acked and
 * retried. getQueueResult drops retry delays, so the retry calls are spied on too.
 */
async function deliver(messages: { id: string; body: unknown; attempts?: number }[], queue = QUEUE) {
  const batch = createMessageBatch(
    queue,
    messages.map((m) => ({ id: m.id, timestamp: Date.now(), attempts: m.attempts ?? 1, body: m.body })),
  );
  const retryDelays: Record<string, number | undefined> = {};
  for (const m of batch.messages) {
    const retry = m.retry.bind(m);
    m.retry = (options) => {
      retryDelays[m.id] = options?.delaySeconds;
      retry(options);
    };
  }
  const retryAll = batch.retryAll.bind(batch);
  let batchRetryDelay: number | undefined;
  batch.retryAll = (options) => {
    batchRetryDelay = options?.delaySeconds;
    retryAll(options);
  };
  const ctx = createExecutionContext();
  await worker.queue!(batch, env, ctx);
  return { ...(await getQueueResult(batch, ctx)), retryDelays, batchRetryDelay };
}

async function storedRows(id: string) {
  const { results } = await env.DB.prepare("SELECT id, tenant_id, recipient, template, subject, body FROM sent_emails WHERE id = ?").bind(id).all();
  return results;
}

describe("notification queue consumer", () => {
  it("stores a valid email in the sink and acks it", async () => {
    const id = unique("msg");
    const message = welcome();
    const result = await deliver([{ id, body: message }]);
    expect(result.explicitAcks).toEqual([id]);
    expect(result.retryMessages).toEqual([]);
    expect(result.retryBatch.retry).toBe(false);
    expect(await storedRows(id)).toEqual([
      {
        id,
        tenant_id: tenant.id,
        recipient: message.to,
        template: "welcome",
        subject: "Welcome to Boxoffice",
        body: expect.stringContaining("Hello Ada"),
      },
    ]);
  });

  it("stores a redelivered message once", async () => {
    const id = unique("msg");
    const message = welcome();
    const first = await deliver([{ id, body: message }]);
    const second = await deliver([{ id, body: message, attempts: 2 }]);
    expect(first.explicitAcks).toEqual([id]);
    expect(second.explicitAcks).toEqual([id]);
    expect(second.retryMessages).toEqual([]);
    expect(await storedRows(id)).toHaveLength(1);
  });

  it("acks an invalid message without retrying it or storing anything", async () => {
    const invalid = [
      { kind: "sms", tenantId: tenant.id, to: "+15550100" },
      { ...welcome(), to: "not-an-email" },
      { ...welcome(), template: "no_such_template" },
      { ...welcome(), bcc: "spy@example.test" },
      "just a string",
    ];
    const messages = invalid.map((body) => ({ id: unique("bad"), body }));
    const result = await deliver(messages);
    expect(result.explicitAcks.sort()).toEqual(messages.map((m) => m.id).sort());
    expect(result.retryMessages).toEqual([]);
    expect(result.retryBatch.retry).toBe(false);
    for (const m of messages) expect(await storedRows(m.id)).toEqual([]);
  });

  it("handles each message of a mixed batch on its own", async () => {
    const good = { id: unique("msg"), body: welcome() };
    const bad = { id: unique("bad"), body: { kind: "email" } };
    const result = await deliver([bad, good]);
    expect(result.explicitAcks.sort()).toEqual([bad.id, good.id].sort());
    expect(await storedRows(good.id)).toHaveLength(1);
    expect(await storedRows(bad.id)).toEqual([]);
  });

  it("retries a message whose delivery fails, backing off with its attempts", async () => {
    const id = unique("msg");
    // A tenant that does not exist: the sink insert fails its foreign key.
    const result = await deliver([{ id, body: { ...welcome(), tenantId: "00000000-0000-4000-8000-00000000dead" }, attempts: 3 }]);
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages).toEqual([{ msgId: id }]);
    expect(result.retryDelays).toEqual({ [id]: 8 });
    expect(await storedRows(id)).toEqual([]);
  });

  it("does not deliver messages from the dead-letter queue; it retries the batch later", async () => {
    const id = unique("msg");
    const result = await deliver([{ id, body: welcome() }], `${QUEUE}-dlq`);
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryBatch.retry).toBe(true);
    expect(result.batchRetryDelay).toBe(60);
    expect(await storedRows(id)).toEqual([]);
  });
});
