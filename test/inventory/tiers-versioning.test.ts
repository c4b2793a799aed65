import { describe, expect, it } from "vitest";
import { newInventory, tier } from "./support";

const NOW = Date.UTC(2030, 0, 1);

// Two tier writes race; their pushes reach the DO in the wrong order. The DO must keep
// the newer configuration in force and say which version that is.
describe("tier configuration versions", () => {
  it("ignores a push older than the configuration in force and reports the version in force", async () => {
    const { stub } = newInventory();
    const v3 = await stub.upsertTier(tier("t1", { version: 3, capacity: 50 }), NOW);
    expect(v3).toMatchObject({ ok: true, value: { version: 3, capacity: 50 } });
    const late = await stub.upsertTier(tier("t1", { version: 2, capacity: 100 }), NOW);
    expect(late).toMatchObject({ ok: true, value: { version: 3, capacity: 50 } });
    expect(await stub.counts()).toMatchObject([{ tierId: "t1", version: 3, capacity: 50 }]);
    const v4 = await stub.upsertTier(tier("t1", { version: 4, capacity: 60 }), NOW);
    expect(v4).toMatchObject({ ok: true, value: { version: 4, capacity: 60 } });
  });
});
