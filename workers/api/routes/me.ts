import { createRoute } from "@hono/zod-openapi";
import { audit } from "../../../src/audit/audit";
import { guard, tenantOf } from "../../../src/auth/authenticate";
import { hashPassword, verifyPassword } from "../../../src/auth/password";
import { issueTokens } from "../../../src/auth/sessions";
import { ROLES } from "../../../src/db/schema";
import { AppError } from "../../../src/http/errors";
import { AUTH_ERRORS, BODY_ERRORS, bearerAuth, createRouter, errorResponses, jsonBody, jsonContent } from "../../../src/http/openapi";
import { enqueueNotification } from "../../../src/notifications/messages";
import { ChangePasswordBody, TokenPair, User } from "../../../src/schemas/auth";
import { toUserDto } from "../../../src/schemas/users";
import { assertPasswordPolicy, sendVerificationEmail } from "./auth";

const tags = ["Me"];
// Any signed-in user; API keys have no "me".
const signedIn = guard({ roles: ROLES });

export const getMe = createRoute({
  method: "get",
  path: "/v1/me",
  tags,
  security: bearerAuth,
  summary: "The signed-in user",
  middleware: signedIn,
  responses: { 200: jsonContent(User, "The user"), ...errorResponses(...AUTH_ERRORS) },
});

export const changePassword = createRoute({
  method: "post",
  path: "/v1/me/password",
  tags,
  security: bearerAuth,
  summary: "Change the password",
  description: "Revokes every session and access token of the user, then returns a fresh token pair for this client.",
  middleware: signedIn,
  request: { body: jsonBody(ChangePasswordBody) },
  responses: {
    200: jsonContent(TokenPair, "New tokens"),
    ...errorResponses(...AUTH_ERRORS, ...BODY_ERRORS, "INVALID_CREDENTIALS", "WEAK_PASSWORD"),
  },
});

export const resendVerification = createRoute({
  method: "post",
  path: "/v1/me/verify-email/resend",
  tags,
  security: bearerAuth,
  summary: "Send a new email verification link",
  middleware: signedIn,
  responses: { 202: { description: "Queued (or already verified)" }, ...errorResponses(...AUTH_ERRORS) },
});

async function currentUser(c: Parameters<typeof tenantOf>[0]) {
  const { principal, db } = tenantOf(c);
  if (principal.kind !== "user") throw new AppError("FORBIDDEN");
  const user = await db.users.findById(principal.userId);
  if (!user) throw new AppError("TOKEN_INVALID");
  return { user, db };
}

export const meRoutes = createRouter()
  .openapi(getMe, async (c) => c.json(toUserDto((await currentUser(c)).user), 200))
  .openapi(changePassword, async (c) => {
    const body = c.req.valid("json");
    const { user, db } = await currentUser(c);
    if (!(await verifyPassword(body.currentPassword, user.passwordHash)).ok) {
      throw new AppError("INVALID_CREDENTIALS", "The current password is wrong", {
        errors: [{ field: "body.currentPassword", message: "Incorrect password" }],
      });
    }
    assertPasswordPolicy(body.newPassword, user.email);
    const now = c.var.now();
    const tokenVersion = await db.users.setPassword(user.id, await hashPassword(body.newPassword), now, true);
    await db.refreshTokens.revokeAllForUser(user.id, "password_changed", now);
    await audit(c, db, { action: "auth.password.changed", targetType: "user", targetId: user.id });
    await enqueueNotification(c.var.config.NOTIFICATIONS, { kind: "email", tenantId: user.tenantId, to: user.email, template: "password_changed", data: {} });
    return c.json(await issueTokens(c, db, { ...user, tokenVersion }), 200);
  })
  .openapi(resendVerification, async (c) => {
    const { user, db } = await currentUser(c);
    if (user.emailVerifiedAt === null) await sendVerificationEmail(c, db, user);
    return c.body(null, 202);
  });
