import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { tokenFromEmail, waitForEmail } from "../helpers/fixtures";
import { call, expectProblem } from "../helpers/http";
import { drainInventory, registerUser, scan, scannerOf, soldWorld } from "./support";

const transfer = (token: string, ticketId: string, toEmail: string) => call("POST", `/v1/tickets/${ticketId}/transfer`, { token, body: { toEmail } });

describe("ticket transfers", () => {
  it("moves the ticket to the recipient with a new code; the old code stops working", async () => {
    const w = await soldWorld(2);
    await drainInventory(w.tenant.id, w.event.id);
    const friend = await registerUser(w.tenant);
    const ticket = w.order.tickets[0]!;
    const res = await transfer(w.buyer.tokens.accessToken, ticket.id, friend.email);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ ticketId: ticket.id, pending: false, codeVersion: 2 });

    await drainInventory(w.tenant.id, w.event.id);
    const theirs = await call("GET", "/v1/me/tickets", { token: friend.tokens.accessToken });
    expect(theirs.body.items.map((t: { id: string }) => t.id)).toEqual([ticket.id]);
    const newCode = theirs.body.items[0].code as string;
    expect(newCode).not.toBe(ticket.code);
    const mine = await call("GET", "/v1/me/tickets", { token: w.buyer.tokens.accessToken });
    expect(mine.body.items.map((t: { id: string }) => t.id)).toEqual([w.order.tickets[1]!.id]);

    const scanner = await scannerOf(w.tenant);
    expectProblem(await scan(scanner, w.event.id, ticket.code), 409, "TICKET_CODE_SUPERSEDED");
    expect((await scan(scanner, w.event.id, newCode)).status).toBe(200);
    // An offline scanner learns that codes below version 2 of this ticket are void.
    const lists = await call("GET", `/v1/events/${w.event.id}/revocations`, { token: scanner });
    expect(lists.body.superseded).toEqual([{ ticketId: ticket.id, number: ticket.number, minCodeVersion: 2 }]);
    expect(lists.body.checkedIn.map((t: { ticketId: string }) => t.ticketId)).toEqual([ticket.id]);
    // Checked in: it cannot move again; and the sender no longer holds it.
    expectProblem(await transfer(friend.tokens.accessToken, ticket.id, w.buyer.email), 409, "TRANSFER_NOT_ALLOWED");
    expectProblem(await transfer(w.buyer.tokens.accessToken, ticket.id, friend.email), 404, "NOT_FOUND");
  });

  it("waits for a recipient without an account, who claims it with a verified email", async () => {
    const w = await soldWorld(1);
    await drainInventory(w.tenant.id, w.event.id);
    const email = `later-${crypto.randomUUID().slice(0, 8)}@example.test`;
    const res = await transfer(w.buyer.tokens.accessToken, w.order.tickets[0]!.id, email);
    expect(res.body).toMatchObject({ pending: true });
    await drainInventory(w.tenant.id, w.event.id);

    const newcomer = await registerUser(w.tenant, email);
    expectProblem(await call("POST", "/v1/me/tickets/claim", { token: newcomer.tokens.accessToken }), 403, "EMAIL_NOT_VERIFIED");
    await env.DB.prepare("UPDATE users SET email_verified_at = ? WHERE id = ?").bind(Date.now(), newcomer.id).run();
    const claim = await call("POST", "/v1/me/tickets/claim", { token: newcomer.tokens.accessToken });
    expect(claim.body).toEqual({ claimed: 1 });
    await drainInventory(w.tenant.id, w.event.id);
    const theirs = await call("GET", "/v1/me/tickets", { token: newcomer.tokens.accessToken });
    expect(theirs.body.items).toHaveLength(1);

    // The history keeps both moves: to the address, then to the account that claimed it.
    const history = await call("GET", `/v1/events/${w.event.id}/tickets/${w.order.tickets[0]!.id}/transfers`, { token: w.tenant.owner.tokens.accessToken });
    expect(history.body.items.map((t: { fromHolder: string; toHolder: string }) => [t.fromHolder, t.toHolder])).toEqual([
      [w.buyer.id, `email:${email}`],
      [`email:${email}`, newcomer.id],
    ]);
  });

  it("becomes the recipient's as soon as they register and verify their address", async () => {
    const w = await soldWorld(1);
    await drainInventory(w.tenant.id, w.event.id);
    const email = `verified-${crypto.randomUUID().slice(0, 8)}@example.test`;
    expect((await transfer(w.buyer.tokens.accessToken, w.order.tickets[0]!.id, email)).body.pending).toBe(true);
    await drainInventory(w.tenant.id, w.event.id);
    const newcomer = await registerUser(w.tenant, email);
    const token = tokenFromEmail(await waitForEmail(email, "verify_email"));
    expect((await call("POST", "/v1/auth/verify-email", { body: { token } })).status).toBe(204);
    await drainInventory(w.tenant.id, w.event.id);
    const theirs = await call("GET", "/v1/me/tickets", { token: newcomer.tokens.accessToken });
    expect(theirs.body.items.map((t: { id: string }) => t.id)).toEqual([w.order.tickets[0]!.id]);
    expect((await call("POST", "/v1/me/tickets/claim", { token: newcomer.tokens.accessToken })).body).toEqual({ claimed: 0 });
  });

  it("is refused for events that forbid transfers", async () => {
    const w = await soldWorld(1);
    await drainInventory(w.tenant.id, w.event.id);
    const owner = w.tenant.owner.tokens.accessToken;
    const current = await call("GET", `/v1/events/${w.event.id}`, { token: owner });
    expect(current.body.allowTransfers).toBe(true);
    const patched = await call("PATCH", `/v1/events/${w.event.id}`, { token: owner, body: { allowTransfers: false, version: current.body.version } });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.allowTransfers).toBe(false);
    const friend = await registerUser(w.tenant);
    expectProblem(await transfer(w.buyer.tokens.accessToken, w.order.tickets[0]!.id, friend.email), 409, "TRANSFER_NOT_ALLOWED");
  });
});
