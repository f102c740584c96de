import type { Metadata } from "next";
import { safeNext } from "@/app/_lib/security/session-cookie";

export const metadata: Metadata = { title: "Log in" };
export const dynamic = "force-dynamic";

const MESSAGES: Record<string, string> = {
  invalid: "Wrong name or password.",
  limited: "Too many attempts: wait a minute and try again.",
  origin: "The form must be sent from this dashboard.",
  expired: "Your session has ended: log in again.",
};

/** A plain form (works without JavaScript), posted to /api/auth/login, which sets the session cookie. */
export default async function LoginPage({ searchParams }: { searchParams: Promise<Record<string, string | undefined>> }) {
  const { next, error } = await searchParams;
  return (
    <div className="login-card">
      <h1>SpecLens</h1>
      <form method="post" action="/api/auth/login">
        <input type="hidden" name="next" value={safeNext(next)} />
        <label htmlFor="name">Name</label>
        <input id="name" name="name" autoComplete="username" required autoFocus />
        <label htmlFor="password">Password</label>
        <input id="password" name="password" type="password" autoComplete="current-password" required />
        {error && (
          <p className="login-error" role="alert">
            {MESSAGES[error] ?? "Could not log in."}
          </p>
        )}
        <button type="submit">Log in</button>
      </form>
    </div>
  );
}
