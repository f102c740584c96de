/**
 * The engine's typed errors. Next.js compiles instrumentation.ts (which loads the engine at start-up)
 * and the route handlers (which catch its errors) into separate bundles, each with its own copy of
 * these classes, so `instanceof` checks a brand registered with Symbol.for instead of the prototype.
 */

const REQUEST_ERROR = Symbol.for("speclens.RequestError");
const MODEL_UNAVAILABLE = Symbol.for("speclens.ModelUnavailableError");

function branded(value: unknown, brand: symbol): boolean {
  return typeof value === "object" && value !== null && brand in value;
}

/**
 * A request the engine cannot run as asked, found before any model work: the caller's fault, not a
 * failure while running. `param` is the offending field's path in engine terms (camelCase, e.g.
 * "maxTokens" in GenerateParams, "ngram.minN" in SpecConfig; `in` says which); servers translate it
 * to their wire name.
 */
export class RequestError extends Error {
  readonly [REQUEST_ERROR] = true;

  constructor(
    readonly param: string,
    message: string,
    readonly in_: "prompt" | "params" | "config" = "params",
  ) {
    super(message);
    this.name = "RequestError";
  }

  static override [Symbol.hasInstance](value: unknown): value is RequestError {
    return branded(value, REQUEST_ERROR);
  }
}

/** A model folder that is missing or incomplete: the engine cannot load, whatever the request. */
export class ModelUnavailableError extends Error {
  readonly [MODEL_UNAVAILABLE] = true;

  constructor(message: string) {
    super(message);
    this.name = "ModelUnavailableError";
  }

  static override [Symbol.hasInstance](value: unknown): value is ModelUnavailableError {
    return branded(value, MODEL_UNAVAILABLE);
  }
}
