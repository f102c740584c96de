import { randomBytes, scrypt, scryptSync, timingSafeEqual, type ScryptOptions } from "node:crypto";

/*
 * Password hashing with scrypt (node:crypto, no native add-on of our own). Stored as
 * "scrypt$<N>$<r>$<p>$<salt>$<hash>" so the cost can be raised later without invalidating old hashes.
 * N = 2^15, r = 8, p = 1 (OWASP's minimum for scrypt is N = 2^17 with r = 8 at p = 1; 2^15 costs ~50 ms
 * here, and a login is also rate-limited per name and address).
 */

const COST = { N: 2 ** 15, r: 8, p: 1 };
const KEY_LENGTH = 32;
/** scrypt needs 128 * N * r bytes; Node's default maxmem (32 MiB) is exactly that at N = 2^15, r = 8. */
const maxmem = (N: number, r: number) => 256 * N * r;

export const MIN_PASSWORD_LENGTH = 12;

function scryptAsync(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, KEY_LENGTH, options, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

function encode(salt: Buffer, hash: Buffer): string {
  return `scrypt$${COST.N}$${COST.r}$${COST.p}$${salt.toString("base64")}$${hash.toString("base64")}`;
}

/** Why a password is refused, or null when it is acceptable. */
export function passwordProblem(password: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) return `password: at least ${MIN_PASSWORD_LENGTH} characters`;
  if (password.length > 1024) return "password: at most 1024 characters";
  return null;
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  return encode(salt, await scryptAsync(password, salt, { ...COST, maxmem: maxmem(COST.N, COST.r) }));
}

/** Synchronous, for the command line. */
export function hashPasswordSync(password: string): string {
  const salt = randomBytes(16);
  return encode(salt, scryptSync(password, salt, KEY_LENGTH, { ...COST, maxmem: maxmem(COST.N, COST.r) }));
}

/**
 * Checks a password against a stored hash in constant time. With `stored` null (no such user) it still
 * computes one hash, so a wrong name costs as much as a wrong password and names cannot be probed by timing.
 */
export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  const parts = (stored ?? "").split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") {
    await scryptAsync(password, randomBytes(16), { ...COST, maxmem: maxmem(COST.N, COST.r) });
    return false;
  }
  const [N, r, p] = parts.slice(1, 4).map(Number);
  const salt = Buffer.from(parts[4], "base64");
  const expected = Buffer.from(parts[5], "base64");
  const actual = await scryptAsync(password, salt, { N, r, p, maxmem: maxmem(N, r) });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
