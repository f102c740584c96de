// Every table of the SpecLens database. drizzle-kit reads this file to generate migrations,
// and db/client.ts passes it to drizzle so queries are typed.
export * from "./spans";
export * from "./generations";
export * from "./configs";
export * from "./alerts";
export * from "./auth";
export * from "./inflight";
export * from "./settings";
