import { randomBytes } from "node:crypto";

/*
 * Response hardening. Every response gets the static headers (next.config.js); pages also get a
 * Content-Security-Policy with a fresh nonce per request (middleware.ts), which Next puts on its own
 * <script> tags, so no inline script without the nonce runs: a prompt containing <script> is inert twice
 * over (React escapes it, and the CSP would refuse it).
 */

export function newNonce(): string {
  return randomBytes(16).toString("base64");
}

/**
 * The page CSP. Scripts: only ours, by nonce, and what they load ('strict-dynamic'); no 'unsafe-inline'.
 * Styles keep 'unsafe-inline' because React style props and recharts write style attributes. Dev mode
 * needs 'unsafe-eval' for React's stack reconstruction.
 */
export function contentSecurityPolicy(nonce: string, dev = process.env.NODE_ENV !== "production"): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${dev ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}
