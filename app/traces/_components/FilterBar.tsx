import Link from "next/link";
import { TIME_RANGES } from "@/app/_lib/traces";
import { modelName } from "@/app/_lib/view-url";

type Facets = Record<"proposer" | "verifyMode" | "configVersion" | "node" | "finishReason" | "model", string[]>;

function Choice({ name, label, options, value, format }: { name: string; label: string; options: string[]; value?: string; format?: (v: string) => string }) {
  return (
    <label className="filter">
      <span>{label}</span>
      <select name={name} defaultValue={value ?? ""}>
        <option value="">any</option>
        {value && !options.includes(value) && <option value={value}>{value}</option>}
        {options.map((o) => (
          <option key={o} value={o}>{format ? format(o) : o}</option>
        ))}
      </select>
    </label>
  );
}

function NumberField({ name, label, value, step, placeholder }: { name: string; label: string; value?: string; step: string; placeholder: string }) {
  return (
    <label className="filter filter-num">
      <span>{label}</span>
      <input type="number" name={name} defaultValue={value} step={step} min="0" placeholder={placeholder} />
    </label>
  );
}

/**
 * The list's filters as a plain GET form: submitting it puts the whole view in the URL (shareable,
 * back-button friendly) and the server filters; it works before any JavaScript has loaded.
 */
export function FilterBar({ facets, values }: { facets: Facets; values: Record<string, string | undefined> }) {
  return (
    <form className="filter-bar" method="get" action="/traces" role="search" data-testid="trace-filters">
      <label className="filter filter-search">
        <span>Search prompt and output</span>
        <input type="search" name="q" defaultValue={values.q} placeholder="words, all required" />
      </label>
      <label className="filter">
        <span>Time</span>
        <select name="range" defaultValue={values.range ?? ""}>
          <option value="">all time</option>
          {Object.keys(TIME_RANGES).map((r) => (
            <option key={r} value={r}>last {r}</option>
          ))}
        </select>
      </label>
      <label className="filter">
        <span>Status</span>
        <select name="status" defaultValue={values.status ?? ""}>
          <option value="">any</option>
          <option value="ok">ok</option>
          <option value="error">error</option>
          <option value="cancelled">cancelled</option>
        </select>
      </label>
      <Choice name="finish_reason" label="Finish" options={facets.finishReason} value={values.finish_reason} />
      <Choice name="proposer" label="Proposer" options={facets.proposer} value={values.proposer} />
      <Choice name="verify_mode" label="Verify" options={facets.verifyMode} value={values.verify_mode} />
      <Choice name="config_version" label="Config" options={facets.configVersion} value={values.config_version} format={(v) => `v${v.replace(/^v/, "")}`} />
      <Choice name="model" label="Model" options={facets.model} value={values.model} format={modelName} />
      <Choice name="node" label="Node" options={facets.node} value={values.node} />
      <label className="filter">
        <span>Replays</span>
        <select name="replay" defaultValue={values.replay ?? ""}>
          <option value="">included</option>
          <option value="only">only replays</option>
          <option value="exclude">live traffic only</option>
        </select>
      </label>
      <label className="filter">
        <span>Alerts</span>
        <select name="alerted" defaultValue={values.alerted ?? ""}>
          <option value="">any trace</option>
          <option value="1">made an alert fire</option>
        </select>
      </label>
      {values.alert && <input type="hidden" name="alert" value={values.alert} />}
      <NumberField name="min_acceptance" label="Accept ≥" value={values.min_acceptance} step="0.05" placeholder="0–1" />
      <NumberField name="max_acceptance" label="Accept ≤" value={values.max_acceptance} step="0.05" placeholder="0–1" />
      <NumberField name="min_latency_ms" label="Latency ≥ ms" value={values.min_latency_ms} step="1" placeholder="ms" />
      <NumberField name="max_latency_ms" label="Latency ≤ ms" value={values.max_latency_ms} step="1" placeholder="ms" />
      {values.sort && <input type="hidden" name="sort" value={values.sort} />}
      {values.order && <input type="hidden" name="order" value={values.order} />}
      {values.since && <input type="hidden" name="since" value={values.since} />}
      {values.until && <input type="hidden" name="until" value={values.until} />}
      <div className="filter-actions">
        <button type="submit" className="button">Apply</button>
        <Link href="/traces">Clear</Link>
      </div>
    </form>
  );
}
