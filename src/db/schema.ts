// The D1 schema, one module per area; drizzle-kit reads the tables exported here.
// Times are integer epoch milliseconds; every tenant-owned table carries tenant_id.
export * from "./schema/identity";
export * from "./schema/events";
export * from "./schema/sales";
export * from "./schema/orders";
