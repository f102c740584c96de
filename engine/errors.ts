/**
 * A request the engine cannot run as asked, found before any model work: the caller's fault, not a
 * failure while running. `param` is the offending field's path in engine terms (camelCase, e.g.
 * "maxTokens" in GenerateParams, "ngram.minN" in SpecConfig; `in` says which); servers translate it
 * to their wire name.
 */
export class RequestError extends Error {
  constructor(
    readonly param: string,
    message: string,
    readonly in_: "prompt" | "params" | "config" = "params",
  ) {
    super(message);
    this.name = "RequestError";
  }
}

/** A model folder that is missing or incomplete: the engine cannot load, whatever the request. */
export class ModelUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ModelUnavailableError";
  }
}
