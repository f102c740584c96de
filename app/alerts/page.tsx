import type { Metadata } from "next";
import { EmptyState } from "@/app/_components/EmptyState";
import { PageHeader } from "@/app/_components/PageHeader";

export const metadata: Metadata = { title: "Alerts" };

export default function AlertsPage() {
  return (
    <>
      <PageHeader section="/alerts" />
      <EmptyState
        title="No alerts"
        howTo={<p>Alerts need traced requests to evaluate: run generations from the Playground or POST /v1/completions.</p>}
      >
        Acceptance-rate drift alerts will appear here when the acceptance rate over a recent window falls below its baseline,
        with the window, the baseline and the requests that caused the drop.
      </EmptyState>
    </>
  );
}
