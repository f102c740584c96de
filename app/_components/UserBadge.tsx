import Link from "next/link";
import { callerIdentity, satisfies, type Caller } from "@/app/_lib/auth";

/** Who is signed in, with their role, a Settings link for admins and a log-out button. */
export function UserBadge({ caller }: { caller: Caller }) {
  return (
    <div className="user-badge" data-testid="user-badge">
      <span className="user-name">{caller.kind === "local" ? "local (no login configured)" : callerIdentity(caller)}</span>
      <span className="user-role">{caller.role}</span>
      {satisfies(caller.role, "admin") && (
        <Link href="/settings" className="user-link">
          Settings
        </Link>
      )}
      {caller.kind === "user" && (
        <form method="post" action="/api/auth/logout">
          <button type="submit" className="link-button">
            Log out
          </button>
        </form>
      )}
    </div>
  );
}
