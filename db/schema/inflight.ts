import { sqliteTable, text } from "drizzle-orm/sqlite-core";
import { int, jsonAttributes, nanos } from "./columns";

/*
 * Requests that have started and are not stored yet. A row is written when a request span starts and
 * deleted in the transaction that stores the finished request, so a row left behind after the process
 * died is a request that was running at the time: at start-up it becomes a request with finish reason
 * `interrupted` (db/tracing/inflight.ts) instead of silently missing.
 */
export const requestsInflight = sqliteTable("requests_inflight", {
  traceId: text("trace_id").primaryKey(),
  spanId: text("span_id").notNull(),
  node: text("node").notNull(), // host.name of the process that ran it
  pid: int("pid").notNull(),
  name: text("name").notNull(), // the request span's name
  startNs: nanos("start_ns").notNull(),
  scope: text("scope").notNull(), // instrumentation scope name
  attributes: jsonAttributes("attributes").notNull(), // the request span's attributes at start
  resource: jsonAttributes("resource").notNull(),
});

export type InflightRow = typeof requestsInflight.$inferSelect;
