import type { Metadata } from "next";
import { EmptyState } from "@/app/_components/EmptyState";
import { PageHeader } from "@/app/_components/PageHeader";

export const metadata: Metadata = { title: "Metrics" };

export default function MetricsPage() {
  return (
    <>
      <PageHeader section="/metrics" />
      <EmptyState
        title="No metrics yet"
        howTo={<p>Metrics are computed from traces, so any traced generation (Playground or POST /v1/completions) produces them.</p>}
      >
        Charts of acceptance rate (accepted / drafted tokens), mean acceptance length, per-position acceptance,
        draft length k and tokens per second will appear here, per request and over time windows.
      </EmptyState>
    </>
  );
}
