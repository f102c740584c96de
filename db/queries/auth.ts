import { createHash, randomBytes } from "node:crypto";
import { and, asc, eq, gt, isNull, lt, ne, sql } from "drizzle-orm";
import type { SpecLensDb } from "../client";
import { apiKeys, sessions, users, type ApiKeyRow, type UserRow } from "../schema";

/*
 * Users, sessions and API keys in the database. Secrets are hashed before they reach these functions'
 * SQL: session tokens and API keys with SHA-256 (they are 32 random bytes, so a fast hash is enough),
 * passwords with scrypt by the caller (app/_lib/security/passwords.ts).
 */

export const sha256Hex = (text: string): string => createHash("sha256").update(text).digest("hex");

/** A fresh secret: 32 random bytes, base64url, with a prefix saying what it is ("sl_" keys, "ss_" sessions). */
export function newSecret(prefix: string): string {
  return prefix + randomBytes(32).toString("base64url");
}

export type PublicUser = Omit<UserRow, "passwordHash">;

const publicUserColumns = {
  id: users.id, name: users.name, role: users.role, disabled: users.disabled, createdAtMs: users.createdAtMs, createdBy: users.createdBy,
};

export function listUsers(db: SpecLensDb): PublicUser[] {
  return db.select(publicUserColumns).from(users).orderBy(asc(users.name)).all();
}

export function findUserByName(db: SpecLensDb, name: string): UserRow | undefined {
  return db.select().from(users).where(eq(users.name, name)).get();
}

export function findUserById(db: SpecLensDb, id: number): UserRow | undefined {
  return db.select().from(users).where(eq(users.id, id)).get();
}

/** Users that can log in; authentication is on as soon as there is one. */
export function countActiveUsers(db: SpecLensDb): number {
  const row = db.select({ n: sql<number>`count(*)` }).from(users).where(eq(users.disabled, 0)).get();
  return Number(row?.n ?? 0);
}

export function countActiveAdmins(db: SpecLensDb, exceptUserId?: number): number {
  const conditions = [eq(users.disabled, 0), eq(users.role, "admin")];
  if (exceptUserId !== undefined) conditions.push(ne(users.id, exceptUserId));
  const row = db.select({ n: sql<number>`count(*)` }).from(users).where(and(...conditions)).get();
  return Number(row?.n ?? 0);
}

export function insertUser(db: SpecLensDb, user: { name: string; role: string; passwordHash: string; createdBy: string }): PublicUser {
  const id = db.insert(users).values({ ...user, createdAtMs: Date.now() }).returning({ id: users.id }).get().id;
  return db.select(publicUserColumns).from(users).where(eq(users.id, Number(id))).get()!;
}

export function updateUser(db: SpecLensDb, id: number, change: { role?: string; disabled?: number; passwordHash?: string }): void {
  db.transaction((tx) => {
    tx.update(users).set(change).where(eq(users.id, id)).run();
    // A disabled user, a changed role or a new password ends every session of that user.
    tx.delete(sessions).where(eq(sessions.userId, id)).run();
  });
}

// --- sessions ---------------------------------------------------------------------------------------

export function createSession(db: SpecLensDb, userId: number, lifetimeMs: number): { token: string; expiresAtMs: number } {
  const token = newSecret("ss_");
  const now = Date.now();
  const expiresAtMs = now + lifetimeMs;
  db.transaction((tx) => {
    // Expired sessions are swept whenever someone logs in; nothing else needs them.
    tx.delete(sessions).where(lt(sessions.expiresAtMs, now)).run();
    tx.insert(sessions).values({ tokenHash: sha256Hex(token), userId, createdAtMs: now, expiresAtMs, lastSeenAtMs: now }).run();
  });
  return { token, expiresAtMs };
}

export interface SessionUser {
  userId: number;
  name: string;
  role: string;
  expiresAtMs: number;
}

/** The user behind a session token, if the session has not expired and the user is not disabled. */
export function findSessionUser(db: SpecLensDb, token: string, now = Date.now()): SessionUser | undefined {
  return db
    .select({ userId: users.id, name: users.name, role: users.role, expiresAtMs: sessions.expiresAtMs })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.tokenHash, sha256Hex(token)), gt(sessions.expiresAtMs, now), eq(users.disabled, 0)))
    .get();
}

export function deleteSession(db: SpecLensDb, token: string): void {
  db.delete(sessions).where(eq(sessions.tokenHash, sha256Hex(token))).run();
}

// --- API keys ---------------------------------------------------------------------------------------

export type PublicApiKey = Omit<ApiKeyRow, "keyHash">;

const publicKeyColumns = {
  id: apiKeys.id, name: apiKeys.name, role: apiKeys.role, prefix: apiKeys.prefix, createdAtMs: apiKeys.createdAtMs,
  createdBy: apiKeys.createdBy, lastUsedAtMs: apiKeys.lastUsedAtMs, revokedAtMs: apiKeys.revokedAtMs,
};

/** Creates a key; the returned `key` is the only time the secret exists outside the caller's hands. */
export function createApiKey(db: SpecLensDb, input: { name: string; role: string; createdBy: string }): { key: string; record: PublicApiKey } {
  const key = newSecret("sl_");
  const id = db
    .insert(apiKeys)
    .values({ ...input, keyHash: sha256Hex(key), prefix: key.slice(0, 10), createdAtMs: Date.now() })
    .returning({ id: apiKeys.id })
    .get().id;
  return { key, record: db.select(publicKeyColumns).from(apiKeys).where(eq(apiKeys.id, Number(id))).get()! };
}

export function listApiKeys(db: SpecLensDb): PublicApiKey[] {
  return db.select(publicKeyColumns).from(apiKeys).orderBy(asc(apiKeys.id)).all();
}

export function findActiveApiKey(db: SpecLensDb, key: string): PublicApiKey | undefined {
  return db.select(publicKeyColumns).from(apiKeys).where(and(eq(apiKeys.keyHash, sha256Hex(key)), isNull(apiKeys.revokedAtMs))).get();
}

export function touchApiKey(db: SpecLensDb, id: number, atMs: number): void {
  db.update(apiKeys).set({ lastUsedAtMs: atMs }).where(eq(apiKeys.id, id)).run();
}

/** Revokes a key (kept in the list, marked revoked). False when there is no such active key. */
export function revokeApiKey(db: SpecLensDb, id: number): boolean {
  const result = db.update(apiKeys).set({ revokedAtMs: Date.now() }).where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAtMs))).run();
  return result.changes > 0;
}

export function countActiveApiKeys(db: SpecLensDb): number {
  const row = db.select({ n: sql<number>`count(*)` }).from(apiKeys).where(isNull(apiKeys.revokedAtMs)).get();
  return Number(row?.n ?? 0);
}
