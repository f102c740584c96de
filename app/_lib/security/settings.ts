import "server-only";
import { z } from "zod";
import { KEY_ROLES, ROLES } from "./config";

/** Bodies of the /api/settings routes (admin: users and API keys). */

export const createKeySchema = z.strictObject({
  name: z.string().trim().min(1).max(64),
  role: z.enum(KEY_ROLES),
});

const userName = z.string().trim().min(1).max(64).regex(/^[A-Za-z0-9._@-]+$/, "letters, digits and . _ @ - only");

export const createUserSchema = z.strictObject({
  name: userName,
  role: z.enum(ROLES),
  password: z.string().min(12, "at least 12 characters").max(1024),
});

export const updateUserSchema = z
  .strictObject({
    role: z.enum(ROLES).optional(),
    disabled: z.boolean().optional(),
    password: z.string().min(12, "at least 12 characters").max(1024).optional(),
  })
  .refine((b) => b.role !== undefined || b.disabled !== undefined || b.password !== undefined, { message: "nothing to change: send role, disabled or password" });

/** A positive integer path id, or null. */
export function parseId(raw: string): number | null {
  return /^[1-9][0-9]{0,9}$/.test(raw) ? Number(raw) : null;
}
