import type { Metadata } from "next";
import { callerHas } from "@/app/_lib/page-auth";
import { getDb } from "@/db/client";
import { listApiKeys, listUsers } from "@/db/queries/auth";
import { SettingsPanel } from "./SettingsPanel";

export const metadata: Metadata = { title: "Settings" };
export const dynamic = "force-dynamic";

/** Users and API keys (admin). Changes go through /api/settings/*, which check the role again. */
export default async function SettingsPage() {
  const { caller, allowed } = await callerHas("admin");
  if (!allowed) {
    return (
      <section>
        <h1>Settings</h1>
        <p role="alert">Settings need the admin role; you are signed in as a {caller.role}.</p>
      </section>
    );
  }
  const db = getDb();
  return (
    <section>
      <header className="page-header">
        <div>
          <h1>Settings</h1>
          <p className="purpose">Who may use this dashboard and its API: users with roles, and API keys.</p>
        </div>
      </header>
      <SettingsPanel initialUsers={listUsers(db)} initialKeys={listApiKeys(db)} />
    </section>
  );
}
