import { hostname } from "node:os";
import { sql } from "drizzle-orm";
import { foreignKey, index, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { int, jsonAttributes, nanos } from "./columns";

// Rows written without attributes still hold valid JSON, so readers never special-case NULL.
const emptyJson = sql`'{}'`;

/**
 * Raw OpenTelemetry spans, one row per finished span, as the SQLite exporter receives them.
 * Derived views (requests, steps, tokens) are computed from these rows by later tables.
 */
export const spans = sqliteTable(
  "spans",
  {
    traceId: text("trace_id").notNull(), // 32 lowercase hex chars
    spanId: text("span_id").notNull(), // 16 lowercase hex chars
    parentSpanId: text("parent_span_id"), // null for a root span
    name: text("name").notNull(),
    kind: int("kind").notNull().default(0), // OTel SpanKind: 0 internal, 1 server, 2 client, 3 producer, 4 consumer
    startTimeNs: nanos("start_time_ns").notNull(),
    endTimeNs: nanos("end_time_ns").notNull(),
    statusCode: int("status_code").notNull().default(0), // OTel SpanStatusCode: 0 unset, 1 ok, 2 error
    statusMessage: text("status_message"),
    attributes: jsonAttributes("attributes").notNull().default(emptyJson),
    resource: jsonAttributes("resource").notNull().default(emptyJson),
    scopeName: text("scope_name"),
    // Which SpecLens node produced the span, so several nodes can share or merge one database.
    node: text("node")
      .notNull()
      .$defaultFn(() => hostname()),
  },
  (t) => [
    // The primary key's leading trace_id column also serves every "all spans of a trace" lookup.
    primaryKey({ columns: [t.traceId, t.spanId] }),
    index("spans_start_time_ns_idx").on(t.startTimeNs),
    index("spans_name_idx").on(t.name),
  ],
);

/** Timestamped events recorded on a span (OTel span events), e.g. a rollback inside a step. */
export const spanEvents = sqliteTable(
  "span_events",
  {
    // INTEGER PRIMARY KEY aliases SQLite's rowid: inserting NULL makes SQLite assign the next id.
    id: int("id")
      .primaryKey()
      .$defaultFn(() => sql`NULL`),
    traceId: text("trace_id").notNull(),
    spanId: text("span_id").notNull(),
    name: text("name").notNull(),
    timeNs: nanos("time_ns").notNull(),
    attributes: jsonAttributes("attributes").notNull().default(emptyJson),
  },
  (t) => [
    index("span_events_trace_span_idx").on(t.traceId, t.spanId),
    // Events belong to their span: deleting spans (retention) removes their events too.
    foreignKey({
      columns: [t.traceId, t.spanId],
      foreignColumns: [spans.traceId, spans.spanId],
      name: "span_events_span_fk",
    }).onDelete("cascade"),
  ],
);

export type Span = typeof spans.$inferSelect;
export type NewSpan = typeof spans.$inferInsert;
export type SpanEvent = typeof spanEvents.$inferSelect;
export type NewSpanEvent = typeof spanEvents.$inferInsert;
