import type { Metadata } from "next";
import { EmptyState } from "@/app/_components/EmptyState";
import { PageHeader } from "@/app/_components/PageHeader";
import { BatchReplay } from "@/app/_components/replay/BatchReplay";
import { getDb } from "@/db/client";
import { countOriginals } from "@/db/queries/replays";

export const metadata: Metadata = { title: "Replay" };
export const dynamic = "force-dynamic";

type Props = { searchParams: Promise<{ alert?: string }> };

/**
 * Replay: one trace is replayed from its trace page (Replay panel, attribution view); here every trace of
 * a filter, a list or an alert is replayed in one go, with a progress bar and a summary.
 */
export default async function ReplayPage({ searchParams }: Props) {
  const { alert } = await searchParams;
  if (countOriginals(getDb()) === 0) {
    return (
      <>
        <PageHeader section="/replay" />
        <EmptyState
          title="Nothing to replay yet"
          howTo={<p>Produce a request in the Playground or with POST /v1/completions, then open it from Traces and press Exact or Target only.</p>}
        >
          Replay re-runs a stored request through the engine (exactly, with the target alone, with the draft alone, or under
          another config), tells whether it reproduced, and whether a bad output came from the draft or the target model.
        </EmptyState>
      </>
    );
  }
  return (
    <>
      <PageHeader section="/replay" />
      <p className="muted">
        To replay one request, open it from Traces: its page has a Replay panel (exact, target-only, draft-only, another
        config) and an attribution view where you select output text to see whether the draft or the target produced it.
      </p>
      <BatchReplay initialAlert={alert && /^\d+$/.test(alert) ? alert : null} />
    </>
  );
}
