import type { Metadata } from "next";
import { EmptyState } from "@/app/_components/EmptyState";
import { PageHeader } from "@/app/_components/PageHeader";

export const metadata: Metadata = { title: "Replay" };

export default function ReplayPage() {
  return (
    <>
      <PageHeader section="/replay" />
      <EmptyState
        title="Nothing to replay yet"
        howTo={<p>Replay starts from a stored request: produce one in the Playground or with POST /v1/completions, then open it from Traces.</p>}
      >
        Replays will appear here: a stored request re-run through the engine with its recorded config or a chosen one, the
        two outputs side by side, and whether the first divergence came from the draft or the target model.
      </EmptyState>
    </>
  );
}
