import { expect, it } from "vitest";
import { call } from "./helpers/http";
import { createTenant, registerUser, tokenFromEmail, waitForEmail } from "./helpers/fixtures";

it("answers liveness", async () => {
  const res = await call("GET", "/health/live");
  expect(res.status).toBe(200);
  expect(res.body).toEqual({ status: "ok" });
});

it("delivers verification email through the queue", async () => {
  const t = await createTenant();
  const u = await registerUser(t);
  const mail = await waitForEmail(u.email, "verify_email");
  const res = await call("POST", "/v1/auth/verify-email", { body: { token: tokenFromEmail(mail) } });
  expect(res.status, res.text).toBe(204);
  const me = await call("GET", "/v1/me", { token: u.tokens.accessToken });
  expect(me.body.emailVerified).toBe(true);
});
