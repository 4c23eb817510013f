/**
 * Attachments in: the worker's reader built from configuration, and what is kept of an image once its turn is
 * over (a note, never the bytes: a session would otherwise carry and resend megabytes on every later turn).
 */
import type { AgentInputItem } from '@openai/agents';
import type { Logger } from 'pino';
import type { Config } from '../config/env.js';
import { parseAllowlist } from './download.js';
import { createAttachmentReader, type AttachmentReader, type AttachmentReaderOptions } from './read.js';
import { openAITranscriber } from './transcribe.js';

export type { AttachmentReader, ReadAttachments } from './read.js';

export function attachmentReaderFor(
  config: Config,
  adapters: AttachmentReaderOptions['adapters'],
  log: Logger,
): AttachmentReader {
  const transcribe = config.TRANSCRIPTION_MODEL
    ? openAITranscriber({
        baseUrl: config.TRANSCRIPTION_BASE_URL ?? config.OPENAI_BASE_URL ?? 'https://api.openai.com/v1',
        apiKey: config.OPENAI_API_KEY,
        model: config.TRANSCRIPTION_MODEL,
      })
    : undefined;
  return createAttachmentReader({
    adapters,
    maxBytes: config.ATTACHMENT_MAX_BYTES,
    textMaxBytes: config.ATTACHMENT_TEXT_MAX_BYTES,
    timeoutMs: config.ATTACHMENT_FETCH_TIMEOUT_MS,
    urlHosts: parseAllowlist(config.ATTACHMENT_URL_HOSTS),
    transcribe,
    log,
  });
}

export const IMAGE_KEPT_NOTE = '[an image was shown here]';

/** Items as the session keeps them: image input parts become a short note. */
export function withoutImageBytes(items: AgentInputItem[]): AgentInputItem[] {
  return items.map((it) => {
    const content = (it as { content?: unknown }).content;
    if (!Array.isArray(content) || !content.some((p) => (p as { type?: string }).type === 'input_image')) return it;
    const kept = content.map((p) =>
      (p as { type?: string }).type === 'input_image' ? { type: 'input_text', text: IMAGE_KEPT_NOTE } : p,
    );
    return { ...it, content: kept } as AgentInputItem;
  });
}
