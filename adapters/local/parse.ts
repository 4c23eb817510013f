/** The local channel's HTTP body: validated with zod; unknown fields are ignored. */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { InboundEvent } from '../../src/core/types.js';

export const localMessageSchema = z.object({
  conversation: z.string().min(1).max(200).regex(/^[\w.:@-]+$/, 'letters, digits and _ . : @ - only'),
  user: z.string().min(1).max(200),
  name: z.string().max(200).optional(),
  text: z.string().min(1),
  /** Client-chosen id, for idempotent retries from the client; else one is generated. */
  id: z.string().min(1).max(200).optional(),
  kind: z.enum(['dm', 'group']).default('group'),
  wait: z.boolean().default(false),
});
export type LocalMessage = z.infer<typeof localMessageSchema>;

export function toInboundEvent(m: LocalMessage, now = new Date()): InboundEvent {
  const at = now.toISOString();
  return {
    id: `local:${m.id ?? randomUUID()}`,
    platform: 'local',
    tenant: 'default',
    conversation: { platform: 'local', tenant: 'default', channel: m.conversation, kind: m.kind, user: m.kind === 'dm' ? m.user : undefined },
    sender: { id: m.user, name: m.name, isBot: false },
    text: m.text,
    attachments: [],
    mentionsBot: true,
    kind: 'message',
    sentAt: at,
    receivedAt: at,
  };
}
