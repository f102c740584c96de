import type { Metadata } from "next";
import { PageHeader } from "@/app/_components/PageHeader";
import { PlaygroundForm } from "./PlaygroundForm";

export const metadata: Metadata = { title: "Playground" };

export default function PlaygroundPage() {
  return (
    <>
      <PageHeader section="/playground" />
      <PlaygroundForm />
    </>
  );
}
