/** A validated local message (schema.ts) -> the normalized `InboundEvent`. */
import { randomUUID } from 'node:crypto';
import type { InboundEvent } from '../../src/core/types.js';
import type { LocalMessage } from './schema.js';

export function toInboundEvent(m: LocalMessage, now = new Date()): InboundEvent {
  const at = now.toISOString();
  return {
    id: `local:${m.id ?? randomUUID()}`,
    platform: 'local',
    tenant: 'default',
    conversation: {
      platform: 'local',
      tenant: 'default',
      channel: m.conversation,
      kind: m.kind,
      user: m.kind === 'dm' ? m.user : undefined,
    },
    sender: { id: m.user, name: m.name, isBot: false },
    text: m.text,
    // A data: URL's declared type is all there is; the worker sniffs the bytes anyway.
    attachments: m.attachments.map((a) => {
      const declared = a.url.startsWith('data:') ? /^data:([^;,]+)/.exec(a.url)?.[1] : undefined;
      const mimeType = a.mimeType ?? declared;
      return { url: a.url, ...(a.name ? { name: a.name } : {}), ...(mimeType ? { mimeType } : {}) };
    }),
    mentionsBot: true,
    kind: 'message',
    sentAt: at,
    receivedAt: at,
  };
}
