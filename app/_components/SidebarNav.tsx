"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { NAV_ITEMS } from "@/app/_lib/nav";
import { AlertsBadge } from "./AlertsBadge";

export function SidebarNav() {
  const pathname = usePathname();
  return (
    <nav aria-label="Sections" className="nav">
      <ul>
        {NAV_ITEMS.map((item) => {
          // Nested pages (e.g. /traces/<id>) keep their section highlighted.
          const active = pathname === item.href || pathname.startsWith(`${item.href}/`);
          return (
            <li key={item.href}>
              <Link href={item.href} className={active ? "nav-link active" : "nav-link"} aria-current={active ? "page" : undefined}>
                {item.label}
                {item.href === "/alerts" && <AlertsBadge />}
              </Link>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
