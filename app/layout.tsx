import type { Metadata } from "next";
import type { ReactNode } from "react";
import Link from "next/link";
import { HealthBadge } from "@/app/_components/HealthBadge";
import { SidebarNav } from "@/app/_components/SidebarNav";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "SpecLens", template: "%s · SpecLens" },
  description: "Observability and audit for speculative decoding",
};

export default function RootLayout({ children }: { children: ReactNode }) {
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
            <HealthBadge />
          </aside>
          <main className="content">{children}</main>
        </div>
      </body>
    </html>
  );
}
