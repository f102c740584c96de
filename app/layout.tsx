import type { Metadata } from "next";
import type { ReactNode } from "react";
import Link from "next/link";
import { HealthBadge } from "@/app/_components/HealthBadge";
import { SidebarNav } from "@/app/_components/SidebarNav";
import { UserBadge } from "@/app/_components/UserBadge";
import { currentPath, requireViewer } from "@/app/_lib/page-auth";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "SpecLens", template: "%s · SpecLens" },
  description: "Observability and audit for speculative decoding",
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  // Every page needs at least a viewer (the login page excepted); checked here, server-side, for every
  // page, whatever the middleware did.
  const path = await currentPath();
  if (path === "/login") {
    return (
      <html lang="en">
        <body>
          <main className="login-shell">{children}</main>
        </body>
      </html>
    );
  }
  const caller = await requireViewer();
  return (
    <html lang="en">
      <body>
        <div className="shell">
          <aside className="sidebar">
            <Link href="/traces" className="brand">
              <span className="brand-mark" aria-hidden="true">◎</span>
              <span>SpecLens</span>
            </Link>
            <SidebarNav />
            <UserBadge caller={caller} />
            <HealthBadge />
          </aside>
          <main className="content">{children}</main>
        </div>
      </body>
    </html>
  );
}
