import { customType } from "drizzle-orm/sqlite-core";

/*
 * Column helpers shared by every table.
 *
 * The connection is opened with better-sqlite3's safeIntegers mode (see db/client.ts) because
 * span timestamps are nanoseconds since the Unix epoch (~1.7e18), far beyond
 * Number.MAX_SAFE_INTEGER (~9.0e15): read back as plain numbers they would silently lose up to
 * 256 ns. In that mode SQLite hands every INTEGER back as a bigint, so each integer column must say
 * how it wants its value in TypeScript: `nanos` keeps the bigint, `int` narrows to a number.
 */

/** An INTEGER column holding nanoseconds since the Unix epoch (or a nanosecond duration). */
export const nanos = customType<{ data: bigint; driverData: bigint | number }>({
  dataType: () => "integer",
  toDriver: (value) => value,
  fromDriver: (value) => BigInt(value),
});

/** An INTEGER column whose values fit a JavaScript number (counts, codes, small ids). */
export const int = customType<{ data: number; driverData: bigint | number }>({
  dataType: () => "integer",
  toDriver: (value) => value,
  fromDriver: (value) => Number(value),
});

/** A JSON object stored as TEXT; OTel attributes and resources are flat key/value maps. */
export type JsonAttributes = Record<string, unknown>;

export const jsonAttributes = customType<{ data: JsonAttributes; driverData: string }>({
  dataType: () => "text",
  toDriver: (value) => JSON.stringify(value, bigintReplacer),
  fromDriver: (value) => JSON.parse(value) as JsonAttributes,
});

// OTel attribute values may be bigints (e.g. token ids); JSON has no bigint, so store them as strings.
function bigintReplacer(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}
