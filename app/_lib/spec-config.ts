import "server-only";
import { z } from "zod";
import { SPEC_WIRE_FIELDS, specConfigFromWire, type ConfigIssue, type SpecConfig } from "@/engine";

/*
 * The speculative config on the wire (snake_case): every field optional, nested groups merged field by
 * field onto a base config. The same shape is the top level of POST /api/generate and the
 * `speclens.overrides` object of the OpenAI-compatible API. The body schemas only carry the values
 * through (z.unknown); their ranges and relations are the engine's one schema (engine/config.ts),
 * applied by specConfigFromWire once the base version is known, with errors naming the wire path.
 */
export const specOverridesShape: Record<string, z.ZodOptional<z.ZodUnknown>> = Object.fromEntries(
  SPEC_WIRE_FIELDS.map((name) => [name, z.unknown().optional()]),
);

/** `speclens.overrides`: an object whose own fields specConfigFromWire judges (unknown ones included). */
export const specOverridesSchema = z.record(z.string(), z.unknown());
export type SpecOverrides = Record<string, unknown>;

/** Only the overrides that were given, from a parsed body that may hold other fields too. */
export function pickSpecOverrides(body: Record<string, unknown>): SpecOverrides {
  const picked: Record<string, unknown> = {};
  for (const key of SPEC_WIRE_FIELDS) if (body[key] !== undefined) picked[key] = body[key];
  return picked;
}

export class SpecOverridesError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map((i) => `${i.path}: ${i.message}`).join("; "));
    this.name = "SpecOverridesError";
  }

  /** The first offending field's wire path (the OpenAI error's `param`). */
  get param(): string {
    return this.issues[0]?.path ?? "";
  }
}

/** `base` with the wire overrides applied and validated; a SpecOverridesError names the wire paths. */
export function applySpecOverrides(base: SpecConfig, overrides: unknown, pathPrefix = ""): SpecConfig {
  const result = specConfigFromWire(base, overrides, pathPrefix);
  if (!result.ok) throw new SpecOverridesError(result.issues);
  return result.config;
}
