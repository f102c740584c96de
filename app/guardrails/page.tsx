import type { Metadata } from "next";
import { EmptyState } from "@/app/_components/EmptyState";
import { PageHeader } from "@/app/_components/PageHeader";

export const metadata: Metadata = { title: "Guardrails" };

export default function GuardrailsPage() {
  return (
    <>
      <PageHeader section="/guardrails" />
      <EmptyState
        title="No guardrail configs yet"
        howTo={
          <p>
            Saving a config creates version 1; every later edit creates a new immutable version, and rolling back moves the
            production label to an earlier one.
          </p>
        }
      >
        Versioned configs will be listed here: the proposer (draft model, n-gram prompt lookup or tree), the draft length k,
        lossless or lossy acceptance and their thresholds, each change with an audit entry showing before and after.
      </EmptyState>
    </>
  );
}
