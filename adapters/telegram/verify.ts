/**
 * Webhook authenticity. Telegram does not sign updates; instead it echoes the `secret_token` given to setWebhook
 * in `X-Telegram-Bot-Api-Secret-Token`. Anyone who knows the URL but not the secret is refused.
 */
import { secretsEqual } from '../../src/core/api-key.js';

export const SECRET_HEADER = 'x-telegram-bot-api-secret-token';

/** Telegram accepts 1-256 characters of A-Z, a-z, 0-9, _ and - as a secret token. */
export const SECRET_TOKEN_PATTERN = /^[A-Za-z0-9_-]{1,256}$/;

/** Constant-time comparison of the header with the configured secret (`secretsEqual`, src/core/api-key.ts). */
export function verifySecretToken(header: string | string[] | undefined, secret: string): boolean {
  return typeof header === 'string' && secretsEqual(header, secret);
}
