import { buildHealthReport } from "@/app/_lib/health";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** GET /api/health: 200 with database status and schema version, 503 when the database fails. */
export function GET(): Response {
  const { httpStatus, body } = buildHealthReport();
  return Response.json(body, { status: httpStatus, headers: { "cache-control": "no-store" } });
}
