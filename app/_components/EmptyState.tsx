import type { ReactNode } from "react";

/**
 * What a section shows before it has data: what will appear there, and the concrete step that
 * produces it. An empty page should teach, not just say "no data".
 */
export function EmptyState({ title, children, howTo }: { title: string; children: ReactNode; howTo?: ReactNode }) {
  return (
    <section className="empty-state" data-testid="empty-state">
      <h2>{title}</h2>
      <p>{children}</p>
      {howTo && <div className="empty-how">{howTo}</div>}
    </section>
  );
}
