import type { Metadata } from "next";
import { EmptyState } from "@/app/_components/EmptyState";
import { PageHeader } from "@/app/_components/PageHeader";

export const metadata: Metadata = { title: "Playground" };

export default function PlaygroundPage() {
  return (
    <>
      <PageHeader section="/playground" />
      <EmptyState
        title="No models loaded"
        howTo={<p>Loaded models are listed by GET /api/health; once the draft and target pair from models/ is loaded, the prompt box appears here.</p>}
      >
        Prompts sent from here will run through the embedded speculative-decoding engine, streaming the output with each
        step&apos;s draft tokens, accepted tokens and rollbacks; every run is traced and appears under Traces.
      </EmptyState>
    </>
  );
}
