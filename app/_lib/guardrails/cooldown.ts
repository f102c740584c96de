import "server-only";

/*
 * Fallback cooldowns: after a request of a version trips its fallback rule, new requests of that
 * version run without speculation until the cooldown ends. Per process, on globalThis (Next bundles
 * each route separately); a restart forgets them, which only shortens a cooldown.
 */

const holder = globalThis as typeof globalThis & { __speclensCooldowns?: Map<number, number> };
const cooldowns = () => (holder.__speclensCooldowns ??= new Map());

export function startCooldown(version: number, seconds: number, now = Date.now()): void {
  if (seconds <= 0) return;
  const until = now + seconds * 1000;
  cooldowns().set(version, Math.max(until, cooldowns().get(version) ?? 0));
}

/** Seconds left of the version's cooldown, or 0 when none is running. */
export function cooldownRemaining(version: number, now = Date.now()): number {
  const until = cooldowns().get(version) ?? 0;
  return until > now ? (until - now) / 1000 : 0;
}

/** Tests only. */
export function clearCooldowns(): void {
  cooldowns().clear();
}
