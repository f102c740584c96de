import type { Metadata } from "next";
import { PageHeader } from "@/app/_components/PageHeader";
import { BatchReplay } from "@/app/_components/replay/BatchReplay";

export const metadata: Metadata = { title: "Replay" };
export const dynamic = "force-dynamic";

type Props = { searchParams: Promise<{ alert?: string }> };

/**
 * Replay: one trace is replayed from its trace page (Replay panel, attribution view); here every trace of
 * a filter, a list or an alert is replayed in one go, with a progress bar and a summary.
 */
export default async function ReplayPage({ searchParams }: Props) {
  const { alert } = await searchParams;
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
