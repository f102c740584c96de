import { redirect } from "next/navigation";

// Traces are what users open the dashboard for, so they are the landing page.
export default function Home() {
  redirect("/traces");
}
