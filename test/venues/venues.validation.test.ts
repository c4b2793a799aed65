import { beforeAll, describe, expect, it } from "vitest";
import { createTenant, type TenantFixture } from "../helpers/fixtures";
import { call, expectProblem } from "../helpers/http";
import { OWNER_BODY } from "./support";

let t: TenantFixture;
let token: string;
let venueId: string;
beforeAll(async () => {
  t = await createTenant();
  token = t.owner.tokens.accessToken;
  const res = await call("POST", "/v1/venues", { token, body: OWNER_BODY });
  expect(res.status, res.text).toBe(201);
  venueId = res.body.id;
});

/** Asserts a 400 VALIDATION_FAILED naming exactly these fields. */
function expectFields(res: Awaited<ReturnType<typeof call>>, ...fields: string[]) {
  const problem = expectProblem(res, 400, "VALIDATION_FAILED");
  expect([...new Set(problem.errors?.map((e) => e.field))].sort()).toEqual([...fields].sort());
  return problem;
}

// Each case breaks one bound of one field; the answer must name that field and only it.
const invalid: [string, Record<string, unknown>, string][] = [
  ["name of 201 characters", { name: "x".repeat(201) }, "body.name"],
  ["empty name", { name: "" }, "body.name"],
  ["blank name (trimmed to empty)", { name: "   " }, "body.name"],
  ["name not a string", { name: 42 }, "body.name"],
  ["addressLine1 of 201 characters", { addressLine1: "a".repeat(201) }, "body.addressLine1"],
  ["addressLine2 of 201 characters", { addressLine2: "a".repeat(201) }, "body.addressLine2"],
  ["city of 101 characters", { city: "c".repeat(101) }, "body.city"],
  ["region of 101 characters", { region: "r".repeat(101) }, "body.region"],
  ["postalCode of 21 characters", { postalCode: "1".repeat(21) }, "body.postalCode"],
  ["country of three letters", { country: "DEU" }, "body.country"],
  ["country in lower case", { country: "de" }, "body.country"],
  ["country that is no country (XX)", { country: "XX" }, "body.country"],
  ["country 'Unknown Region' (ZZ)", { country: "ZZ" }, "body.country"],
  ["timezone Mars/Base", { timezone: "Mars/Base" }, "body.timezone"],
  ["timezone as an offset string", { timezone: "+02:00 nonsense" }, "body.timezone"],
  ["capacity 0", { capacity: 0 }, "body.capacity"],
  ["capacity 1,000,001", { capacity: 1_000_001 }, "body.capacity"],
  ["negative capacity", { capacity: -5 }, "body.capacity"],
  ["fractional capacity", { capacity: 10.5 }, "body.capacity"],
  ["capacity as a string", { capacity: "500" }, "body.capacity"],
];

describe("POST /v1/venues validation", () => {
  for (const [what, override, field] of invalid) {
    it(`refuses ${what}: 400 on ${field}`, async () => {
      expectFields(await call("POST", "/v1/venues", { token, body: { ...OWNER_BODY, ...override } }), field);
    });
  }

  it("accepts the bounds themselves: name of 200, capacity 1 and 1,000,000", async () => {
    for (const override of [{ name: "n".repeat(200) }, { capacity: 1 }, { capacity: 1_000_000 }]) {
      const res = await call("POST", "/v1/venues", { token, body: { ...OWNER_BODY, ...override } });
      expect(res.status, res.text).toBe(201);
      expect(res.body).toMatchObject(override);
    }
  });

  it("names every missing required field", async () => {
    expectFields(await call("POST", "/v1/venues", { token, body: { name: "Only a name" } }), "body.addressLine1", "body.city", "body.country", "body.timezone", "body.capacity");
  });

  it("refuses unknown fields, including ones the server sets itself", async () => {
    const res = await call("POST", "/v1/venues", { token, body: { ...OWNER_BODY, version: 7, createdBy: "someone", tenantId: "other" } });
    expectFields(res, "body.version", "body.createdBy", "body.tenantId");
  });
});

describe("PATCH /v1/venues/{venueId} validation", () => {
  for (const [what, override, field] of invalid) {
    it(`refuses ${what}: 400 on ${field}`, async () => {
      expectFields(await call("PATCH", `/v1/venues/${venueId}`, { token, body: { version: 1, ...override } }), field);
    });
  }

  it("refuses a body with nothing to change", async () => {
    const problem = expectFields(await call("PATCH", `/v1/venues/${venueId}`, { token, body: { version: 1 } }), "body");
    expect(problem.errors![0]!.message).toMatch(/at least one field/);
  });

  it("refuses a malformed version, unknown fields and a non-UUID id", async () => {
    expectFields(await call("PATCH", `/v1/venues/${venueId}`, { token, body: { version: 0, name: "x" } }), "body.version");
    expectFields(await call("PATCH", `/v1/venues/${venueId}`, { token, body: { version: 1, name: "x", id: "x" } }), "body.id");
    expectFields(await call("PATCH", "/v1/venues/not-a-uuid", { token, body: { version: 1, name: "x" } }), "params.venueId");
  });

  it("left the venue untouched through all of the above", async () => {
    const res = await call("GET", `/v1/venues/${venueId}`, { token });
    expect(res.body).toMatchObject({ ...OWNER_BODY, version: 1 });
  });
});

describe("other inputs", () => {
  it("list: limit 1..100 and only cursors the API issued", async () => {
    expectFields(await call("GET", "/v1/venues?limit=0", { token }), "query.limit");
    expectFields(await call("GET", "/v1/venues?limit=101", { token }), "query.limit");
    expectFields(await call("GET", "/v1/venues?cursor=bogus", { token }), "query.cursor");
    expectFields(await call("GET", "/v1/venues?sort=name", { token }), "query.sort");
  });

  it("delete: the version query parameter must be a positive integer", async () => {
    expectFields(await call("DELETE", `/v1/venues/${venueId}?version=abc`, { token }), "query.version");
    expectFields(await call("DELETE", `/v1/venues/${venueId}?version=0`, { token }), "query.version");
  });

  it("access routes: both ids must be UUIDs", async () => {
    expectFields(await call("GET", "/v1/venues/nope/access", { token }), "params.venueId");
    expectFields(await call("PUT", `/v1/venues/${venueId}/access/nope`, { token }), "params.userId");
    expectFields(await call("DELETE", `/v1/venues/${venueId}/access/nope`, { token }), "params.userId");
  });
});
