import { exports } from "cloudflare:workers";
import { expect, it } from "vitest";

it("answers liveness", async () => {
  const res = await exports.default.fetch("http://x/health/live");
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ status: "ok" });
});

it("is ready", async () => {
  const res = await exports.default.fetch("http://x/health/ready");
  const body = await res.text();
  expect(res.status, body).toBe(200);
});
