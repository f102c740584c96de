import type { ReactNode } from "react";
import { navItem, type NavItem } from "@/app/_lib/nav";

/** Heading plus the one-line purpose of a section, taken from the navigation list. */
export function PageHeader({ section, children }: { section: NavItem["href"]; children?: ReactNode }) {
  const item = navItem(section);
  return (
    <header className="page-header">
      <div>
        <h1>{item.label}</h1>
        <p className="purpose">{item.purpose}</p>
      </div>
      {children && <div className="page-header-aside">{children}</div>}
    </header>
  );
}
