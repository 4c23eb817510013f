/**
 * A turn's attachments turned into what the model reads, at turn time in the worker (the queue only ever holds
 * references): images as image input when the agent's model takes images, text files inlined up to a cap, voice
 * notes transcribed (marked as such), everything else described. Each file is downloaded through its adapter
 * (platform auth, platform hosts only), capped, and sniffed: the declared type is not trusted.
 * Over-cap files are refused with a notice the user sees under the answer.
 */
import { fileTypeFromBuffer } from 'file-type';
import type { Logger } from 'pino';
import type { ChannelAdapter } from '../core/adapter.js';
import type { Attachment, InboundEvent } from '../core/types.js';
import { AttachmentRefused, decodeDataUrl, fetchFromHosts, readCapped, type HostAllowlist } from './download.js';
import type { Transcriber } from './transcribe.js';

export interface AttachmentReaderOptions {
  adapters: { get(platform: InboundEvent['platform']): ChannelAdapter | undefined };
  maxBytes: number;
  textMaxBytes: number;
  timeoutMs: number;
  /** Where URLs of channels without their own download (local, agent API) may point. */
  urlHosts: HostAllowlist;
  transcribe?: Transcriber;
  log: Logger;
}

/** What one event's files add: text after the message, images (data URLs), notices for the user. */
export interface ReadAttachments {
  text: string;
  images: string[];
  notices: string[];
}

export interface AttachmentReader {
  read(event: InboundEvent, opts: { images: boolean; signal?: AbortSignal }): Promise<ReadAttachments>;
}

const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);
const TEXT_TYPES = /^(text\/|application\/(json|xml|x-yaml|yaml|javascript|typescript|x-sh|csv|toml|sql)\b)/;
const TEXT_EXT =
  /\.(txt|md|markdown|csv|tsv|json|ya?ml|xml|log|ini|toml|sql|sh|py|js|mjs|ts|tsx|jsx|go|rs|java|c|h|cpp|rb|php|html|css)$/i;
const IMAGE_EXT = /\.(png|jpe?g|gif|webp)$/i;
const AUDIO_EXT = /\.(ogg|oga|opus|mp3|m4a|wav|webm|flac)$/i;

type Kind = 'image' | 'audio' | 'text' | 'other';

/** The file's name: given, or the last segment of its URL's path (never of a data: URL). */
function nameOf(a: Attachment): string {
  if (a.name) return a.name;
  if (!a.url || a.url.startsWith('data:')) return '';
  try {
    return decodeURIComponent(new URL(a.url).pathname.split('/').at(-1) ?? '');
  } catch {
    return '';
  }
}

function kindOf(a: Attachment): Kind {
  const mime = (a.mimeType ?? '').split(';')[0]!.trim().toLowerCase();
  const name = nameOf(a);
  if (a.voice || mime.startsWith('audio/') || (!mime && AUDIO_EXT.test(name))) return 'audio';
  if (mime.startsWith('image/') || (!mime && IMAGE_EXT.test(name))) return 'image';
  if (TEXT_TYPES.test(mime) || ((!mime || mime === 'application/octet-stream') && TEXT_EXT.test(name))) return 'text';
  return 'other';
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  return `${(n / (1024 * 1024)).toFixed(n < 10 * 1024 * 1024 ? 1 : 0).replace(/\.0$/, '')} MB`;
}

/** A name shown in brackets: no brackets or line breaks of its own (it must not pass for the end of the note). */
function labelOf(a: Attachment, kind: Kind): string {
  const name = nameOf(a)
    .replace(/[[\]\r\n]+/g, ' ')
    .trim();
  return name || (kind === 'audio' ? 'voice note' : kind === 'image' ? 'image' : 'file');
}

function describe(label: string, a: Attachment, why: string): string {
  const what = [a.mimeType, a.size !== undefined ? formatBytes(a.size) : undefined].filter(Boolean).join(', ');
  return `[attachment: ${label}${what ? ` (${what})` : ''}: ${why}]`;
}

function utf8Text(bytes: Buffer): string | undefined {
  if (bytes.includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

export function createAttachmentReader(o: AttachmentReaderOptions): AttachmentReader {
  const log = o.log.child({ module: 'attachments' });

  /** The file's bytes, at most `cap`: a data: URL in hand, else downloaded the platform's way. */
  async function bytesOf(e: InboundEvent, a: Attachment, cap: number, signal: AbortSignal): Promise<Buffer> {
    if (a.size !== undefined && a.size > cap) throw new AttachmentRefused('too_big', a.size);
    if (a.url?.startsWith('data:')) {
      const data = decodeDataUrl(a.url);
      if (!data) throw new AttachmentRefused('unavailable');
      if (data.bytes.length > cap) throw new AttachmentRefused('too_big', data.bytes.length);
      return data.bytes;
    }
    const adapter = o.adapters.get(e.platform);
    let res: Response;
    if (adapter?.fetchAttachment) {
      res = await adapter.fetchAttachment(a, { tenant: e.tenant, signal }).catch((err: unknown) => {
        throw err instanceof AttachmentRefused ? err : new AttachmentRefused('unavailable');
      });
    } else if (a.url) res = await fetchFromHosts(a.url, o.urlHosts, { signal });
    else throw new AttachmentRefused('unavailable');
    return readCapped(res, cap);
  }

  async function readOne(
    e: InboundEvent,
    a: Attachment,
    images: boolean,
    signal: AbortSignal,
  ): Promise<{ text: string; image?: string; notice?: string }> {
    const kind = kindOf(a);
    const label = labelOf(a, kind);
    if (kind === 'other') return { text: describe(label, a, 'not read (only images, text files and voice notes are)') };
    if (kind === 'image' && !images) return { text: describe(label, a, 'an image; this model cannot see images') };
    if (kind === 'audio' && !o.transcribe)
      return { text: describe(label, a, 'a voice note arrived, but voice notes cannot be transcribed here') };
    const cap = kind === 'text' ? Math.min(o.textMaxBytes, o.maxBytes) : o.maxBytes;
    let bytes: Buffer;
    try {
      bytes = await bytesOf(e, a, cap, signal);
    } catch (err) {
      const reason = err instanceof AttachmentRefused ? err.reason : 'unavailable';
      log.warn({ platform: e.platform, kind, reason }, 'attachment not read');
      if (reason === 'too_big') {
        const size = err instanceof AttachmentRefused && err.size ? formatBytes(err.size) : 'too large';
        const limit = formatBytes(cap);
        const what = kind === 'text' ? 'text files are read up to' : 'the limit is';
        return {
          text: describe(label, a, `not read: over the ${limit} limit (the user has been told)`),
          notice: `I couldn't open ${label}: it is ${size === 'too large' ? 'too large' : size}, and ${what} ${limit}.`,
        };
      }
      if (reason === 'host') return { text: describe(label, a, 'not read: it is not on the platform’s file host') };
      return { text: describe(label, a, 'could not be downloaded') };
    }
    const sniffed = (await fileTypeFromBuffer(bytes))?.mime;
    if (kind === 'image') {
      if (!sniffed || !IMAGE_TYPES.has(sniffed)) return { text: describe(label, a, 'not an image I can show') };
      return { text: `[image: ${label}, shown below]`, image: `data:${sniffed};base64,${bytes.toString('base64')}` };
    }
    if (kind === 'text') {
      const text = sniffed ? undefined : utf8Text(bytes);
      if (text === undefined) return { text: describe(label, a, 'not a text file') };
      return { text: `[file: ${label}, its text follows]\n${text}\n[end of ${label}]` };
    }
    // A voice note: only audio goes to the transcription endpoint.
    if (!sniffed || !(sniffed.startsWith('audio/') || /^video\/(webm|mp4|ogg)$/.test(sniffed)))
      return { text: describe(label, a, 'not an audio file') };
    try {
      const said = await o.transcribe!(bytes, sniffed, signal);
      return { text: `[voice note, transcribed: ${said || '(nothing said)'}]` };
    } catch {
      log.warn({ platform: e.platform, kind }, 'voice note not transcribed');
      return { text: describe(label, a, 'a voice note arrived, but it could not be transcribed just now') };
    }
  }

  return {
    async read(e, opts) {
      if (!e.attachments.length) return { text: '', images: [], notices: [] };
      const signal = AbortSignal.any([AbortSignal.timeout(o.timeoutMs), ...(opts.signal ? [opts.signal] : [])]);
      // A file that cannot be read never fails the turn: it is described instead.
      const parts = await Promise.all(
        e.attachments.map((a) =>
          readOne(e, a, opts.images, signal).catch(() => {
            log.warn({ platform: e.platform }, 'attachment not read');
            return {
              text: describe(labelOf(a, kindOf(a)), a, 'could not be read'),
              image: undefined,
              notice: undefined,
            };
          }),
        ),
      );
      return {
        text: parts.map((p) => `\n${p.text}`).join(''),
        images: parts.flatMap((p) => (p.image ? [p.image] : [])),
        notices: parts.flatMap((p) => (p.notice ? [p.notice] : [])),
      };
    },
  };
}
