/**
 * Webhook authenticity. Telegram does not sign updates; instead it echoes the `secret_token` given to setWebhook
 * in `X-Telegram-Bot-Api-Secret-Token`. Anyone who knows the URL but not the secret is refused.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export const SECRET_HEADER = 'x-telegram-bot-api-secret-token';

/** Telegram accepts 1-256 characters of A-Z, a-z, 0-9, _ and - as a secret token. */
export const SECRET_TOKEN_PATTERN = /^[A-Za-z0-9_-]{1,256}$/;

/**
 * Constant-time comparison of the header with the configured secret. Both sides are hashed first so that the
 * comparison takes the same time whatever the length of the presented value (timingSafeEqual needs equal lengths,
 * and an early length check would leak the secret's length).
 */
export function verifySecretToken(header: string | string[] | undefined, secret: string): boolean {
  if (!secret) return false;
  if (typeof header !== 'string' || header.length === 0) return false;
  const a = createHash('sha256').update(header, 'utf8').digest();
  const b = createHash('sha256').update(secret, 'utf8').digest();
  return timingSafeEqual(a, b);
}
