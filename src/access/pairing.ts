/**
 * Pairing (DM_POLICY=pairing): an unknown user who DMs the bot gets a short code, and nothing else, until an admin
 * approves it with `/allow <code>`. Codes live in Redis with a TTL (PAIRING_CODE_TTL_SECONDS): a code nobody
 * approved simply expires. The same user gets the same code again while it is valid.
 */
import { randomInt } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { conversationRefSchema } from '../core/types.js';
import type { AccessKeys } from './policy.js';

/** No 0/O, 1/I/L: codes are read aloud and typed by hand. */
const ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
export const CODE_LENGTH = 6;

const requestSchema = z.object({
  principal: z.string(),
  userId: z.string(),
  name: z.string().optional(),
  /** The DM the request came from: where the approval is announced. */
  ref: conversationRefSchema,
  at: z.string(),
});
export type PairingRequest = z.infer<typeof requestSchema>;

export function newCode(): string {
  return Array.from({ length: CODE_LENGTH }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
}

export function looksLikeCode(s: string): boolean {
  return new RegExp(`^[${ALPHABET}]{${CODE_LENGTH}}$`, 'i').test(s);
}

/** This user's pending code, or a new one. */
export async function pairingCodeFor(
  redis: Redis,
  keys: AccessKeys,
  req: PairingRequest,
  ttlSeconds: number,
): Promise<string> {
  const existing = await redis.get(keys.pairBy(req.principal));
  if (existing && (await redis.exists(keys.pairCode(existing)))) return existing;
  for (;;) {
    const code = newCode();
    // NX: never overwrite someone else's pending code (a collision just draws again).
    if ((await redis.set(keys.pairCode(code), JSON.stringify(req), 'EX', ttlSeconds, 'NX')) !== 'OK') continue;
    await redis.set(keys.pairBy(req.principal), code, 'EX', ttlSeconds);
    return code;
  }
}

/** Use up a code: its request, or null when it does not exist (wrong or expired). */
export async function takePairing(redis: Redis, keys: AccessKeys, code: string): Promise<PairingRequest | null> {
  const raw = await redis.getdel(keys.pairCode(code.toUpperCase()));
  if (!raw) return null;
  const parsed = requestSchema.safeParse(JSON.parse(raw));
  if (!parsed.success) return null;
  await redis.del(keys.pairBy(parsed.data.principal));
  return parsed.data;
}
