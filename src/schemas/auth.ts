import { z } from "@hono/zod-openapi";
import { ROLES } from "../db/schema";
import { Email, Password, PersonName, TenantSlug } from "./common";

export const RegisterBody = z
  .strictObject({ tenant: TenantSlug, email: Email, password: Password, name: PersonName })
  .openapi("RegisterRequest");

export const LoginBody = z.strictObject({ tenant: TenantSlug, email: Email, password: Password }).openapi("LoginRequest");

export const RefreshToken = z.string().min(20).max(200);
export const RefreshBody = z.strictObject({ refreshToken: RefreshToken }).openapi("RefreshRequest");

export const ResetRequestBody = z.strictObject({ tenant: TenantSlug, email: Email }).openapi("PasswordResetRequest");

export const OneTimeToken = z.string().min(20).max(200);
export const ResetConfirmBody = z
  .strictObject({ token: OneTimeToken, newPassword: Password })
  .openapi("PasswordResetConfirm");

export const VerifyEmailBody = z.strictObject({ token: OneTimeToken }).openapi("VerifyEmailRequest");

export const ChangePasswordBody = z
  .strictObject({ currentPassword: Password, newPassword: Password })
  .openapi("ChangePasswordRequest");

export const TokenPair = z
  .object({
    tokenType: z.literal("Bearer"),
    accessToken: z.string(),
    expiresIn: z.number().int().openapi({ description: "Access token lifetime in seconds" }),
    refreshToken: z.string(),
    refreshExpiresIn: z.number().int(),
  })
  .openapi("TokenPair");

export const User = z
  .object({
    id: z.string(),
    email: z.string(),
    name: z.string(),
    role: z.enum(ROLES),
    status: z.enum(["active", "banned"]),
    emailVerified: z.boolean(),
    createdAt: z.string(),
    lastLoginAt: z.string().nullable(),
  })
  .openapi("User");

export const Session = z.object({ user: User, tokens: TokenPair }).openapi("Session");

export const Jwks = z
  .object({ keys: z.array(z.object({ kty: z.string(), crv: z.string(), x: z.string(), kid: z.string(), alg: z.string(), use: z.string() })) })
  .openapi("JWKS");
