import type { EmailMessage } from "./messages";

export function renderEmail(m: EmailMessage): { subject: string; body: string } {
  const d = m.data;
  switch (m.template) {
    case "verify_email":
      return {
        subject: "Confirm your email address",
        body: `Hello ${d.name ?? ""},\n\nConfirm your address: ${d.link}\nThe link expires in 24 hours.\n`,
      };
    case "password_reset":
      return {
        subject: "Reset your password",
        body: `Someone asked to reset your password. If it was you: ${d.link}\nThe link expires in 1 hour and works once.\n`,
      };
    case "password_changed":
      return { subject: "Your password was changed", body: "Your password was just changed. If this wasn't you, reset it now.\n" };
    case "welcome":
      return { subject: "Welcome to Boxoffice", body: `Hello ${d.name ?? ""}, your account is ready.\n` };
  }
}
