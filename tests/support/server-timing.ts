/**
 * A Server-Timing header as SpecLens writes it (app/_lib/server-timing.ts: `name;dur=1.23`, comma-separated)
 * -> the phases in order, name to milliseconds. Throws on an entry of any other form, naming it.
 */
export function parseServerTiming(header: string): Record<string, number> {
  return Object.fromEntries(header.split(", ").map((entry) => {
    const match = /^([a-z]+);dur=(\d+\.\d{2})$/.exec(entry);
    if (!match) throw new Error(`Server-Timing entry ${JSON.stringify(entry)} is not name;dur=<ms with two decimals>`);
    return [match[1], Number(match[2])];
  }));
}
