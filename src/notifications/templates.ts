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
    case "order_confirmed":
      return {
        subject: `Your tickets for ${d.eventName ?? "your event"}`,
        body:
          `Hello ${d.name ?? ""},\n\nYour order ${d.orderId} is confirmed: ${d.ticketCount} ticket(s), numbers ${d.ticketNumbers}, ` +
          `total ${d.total}.\nYour tickets and their codes are in your account: ${d.link}\n`,
      };
    case "welcome":
      return { subject: "Welcome to Boxoffice", body: `Hello ${d.name ?? ""}, your account is ready.\n` };
  }
}
