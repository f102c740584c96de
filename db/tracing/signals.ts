import type Database from "better-sqlite3";

/*
 * The request-level signals the drift alerts watch, computed from a trace's stored steps (so local
 * traces and OTLP-ingested ones get the same numbers, whatever order their spans arrived in):
 *   target_confidence     the target's mean probability of the draft tokens it accepted
 *   draft_confidence      the proposer's mean probability of every token it proposed (all tree paths)
 *   position_counts_json  [position] [steps that accepted it, steps whose chosen path drafted it]
 * tools/alerts/signals.ts computes the same from step records for recordings.
 */
const UPDATE_SIGNALS = `
UPDATE requests SET
  target_confidence = (SELECT avg(json_extract(e.value, '$.targetProb')) FROM steps s, json_each(s.examined_json) e
                        WHERE s.trace_id = @traceId AND json_extract(e.value, '$.outcome') <> 'rejected'),
  target_confidence_n = (SELECT count(*) FROM steps s, json_each(s.examined_json) e
                          WHERE s.trace_id = @traceId AND json_extract(e.value, '$.outcome') <> 'rejected'),
  draft_confidence = (SELECT avg(e.value) FROM steps s, json_each(s.draft_probs_json) e WHERE s.trace_id = @traceId),
  draft_confidence_n = (SELECT count(*) FROM steps s, json_each(s.draft_probs_json) e WHERE s.trace_id = @traceId),
  position_counts_json = coalesce((WITH RECURSIVE pos(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM pos WHERE i < 31)
      SELECT json_group_array(json_array(acc, dr)) FROM (
        SELECT pos.i, sum(s.accepted > pos.i) AS acc, count(*) AS dr FROM pos JOIN steps s
         ON s.trace_id = @traceId AND s.drafted > pos.i GROUP BY pos.i ORDER BY pos.i)), '[]')
WHERE trace_id = @traceId`;

const statements = new WeakMap<Database.Database, Database.Statement>();

/** Recomputes the signals of the given traces' request rows (a no-op for traces without one yet). */
export function updateRequestSignals(sqlite: Database.Database, traceIds: Iterable<string>): void {
  let statement = statements.get(sqlite);
  if (!statement) {
    statement = sqlite.prepare(UPDATE_SIGNALS);
    statements.set(sqlite, statement);
  }
  for (const traceId of traceIds) statement.run({ traceId });
}
