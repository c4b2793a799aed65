import type { TenantId } from "../db/client";
import type { Role } from "../db/schema";
import type { Scope } from "./scopes";

export type UserPrincipal = {
  kind: "user";
  tenantId: TenantId;
  userId: string;
  role: Role;
  sessionId: string;
  emailVerified: boolean;
  /** When the account was created (read with the session check; a fraud signal at checkout). */
  accountCreatedAt: number;
};
export type ApiKeyPrincipal = { kind: "api_key"; tenantId: TenantId; keyId: string; scopes: Scope[] };
export type PlatformPrincipal = { kind: "platform" };
export type TenantPrincipal = UserPrincipal | ApiKeyPrincipal;
export type Principal = TenantPrincipal | PlatformPrincipal;

export function actorOf(p: Principal | undefined): { actorType: "platform" | "user" | "api_key" | "anonymous"; actorId: string | null } {
  if (!p) return { actorType: "anonymous", actorId: null };
  if (p.kind === "platform") return { actorType: "platform", actorId: null };
  if (p.kind === "user") return { actorType: "user", actorId: p.userId };
  return { actorType: "api_key", actorId: p.keyId };
}
