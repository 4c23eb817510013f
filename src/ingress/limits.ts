/**
 * Size limits of one inbound event. Attachments are metadata only (name, MIME type, URL, size), but a platform
 * payload can carry any number of them with names and URLs of any length: they are capped in count and in total
 * metadata size, and their text counts against MAX_INPUT_CHARS like the message's own text (the model sees it).
 */
import type { InboundEvent } from '../core/types.js';

export interface InputLimits {
  maxInputChars: number;
  maxAttachments: number;
  /** Total UTF-8 bytes of the kept attachments' metadata (as JSON). */
  maxAttachmentBytes: number;
}

type Attachment = InboundEvent['attachments'][number];

/**
 * A `data:` URL (the local channel, the agent API) is the file itself, not text for the model: only its header
 * counts here; its bytes are capped by ATTACHMENT_MAX_BYTES where it is accepted and read at turn time.
 */
const urlText = (url: string | undefined) => (url?.startsWith('data:') ? url.slice(0, url.indexOf(',') + 1) : url);
const metadataBytes = (a: Attachment) => Buffer.byteLength(JSON.stringify({ ...a, url: urlText(a.url) }), 'utf8');

/** The first attachments that fit both caps, in order; the rest are dropped. */
export function capAttachments(list: readonly Attachment[], l: InputLimits): { kept: Attachment[]; dropped: number } {
  const kept: Attachment[] = [];
  let bytes = 0;
  for (const a of list) {
    if (kept.length >= l.maxAttachments) break;
    const b = metadataBytes(a);
    if (bytes + b > l.maxAttachmentBytes) break;
    kept.push(a);
    bytes += b;
  }
  return { kept, dropped: list.length - kept.length };
}

/** Characters an event puts in front of the model: its text and its attachments' names, types and URLs. */
export function inputChars(e: Pick<InboundEvent, 'text' | 'attachments'>): number {
  let n = e.text.length;
  for (const a of e.attachments) n += (a.name?.length ?? 0) + (a.mimeType?.length ?? 0) + (urlText(a.url)?.length ?? 0);
  return n;
}
