import { describe, expect, it } from "vitest";
import { ModelUnavailableError, RequestError } from "@/engine/errors";

describe("engine errors", () => {
  it("are recognised across bundles: a copy of the class (same brand, other prototype) passes instanceof", () => {
    // What a RequestError thrown by the engine loaded in instrumentation.ts's bundle looks like to a route.
    const otherCopy = Object.assign(new Error("x"), { [Symbol.for("speclens.RequestError")]: true });
    expect(otherCopy).toBeInstanceOf(RequestError);
    expect(otherCopy).not.toBeInstanceOf(ModelUnavailableError);
  });

  it("do not claim other errors", () => {
    expect(new Error("x")).not.toBeInstanceOf(RequestError);
    expect(new RequestError("maxTokens", "too many")).not.toBeInstanceOf(ModelUnavailableError);
    expect(new ModelUnavailableError("gone")).toBeInstanceOf(ModelUnavailableError);
    expect(new RequestError("maxTokens", "too many")).toBeInstanceOf(Error);
    expect(null).not.toBeInstanceOf(RequestError);
  });
});
