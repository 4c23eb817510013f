/**
 * Fetching a message's file at turn time, the safe way: only from the hosts an adapter names (its platform's file
 * hosts, plus the base URLs it was configured with, e.g. a loopback fake), redirects followed only within them,
 * the body streamed and cut off at the byte cap. URLs are never logged: Slack's carry file ids, Telegram's the bot
 * token.
 */

/** Where an adapter may fetch from: hostnames over https, and whole origins (configured base URLs). */
export interface HostAllowlist {
  hosts: string[];
  origins: string[];
}

export type RefusalReason = 'host' | 'too_big' | 'unavailable';

/** An attachment the gateway will not (or could not) read; `reason` says why, without the URL. */
export class AttachmentRefused extends Error {
  constructor(
    readonly reason: RefusalReason,
    readonly size?: number,
  ) {
    super(`attachment refused: ${reason}`);
    this.name = 'AttachmentRefused';
  }
}

/** An allowlist of https hostnames plus the origins of the given base URLs (unset ones are skipped). */
export function allowlist(hosts: string[], ...baseUrls: (string | undefined)[]): HostAllowlist {
  const origins = baseUrls.flatMap((u) => {
    if (!u) return [];
    try {
      return [new URL(u).origin];
    } catch {
      return [];
    }
  });
  return { hosts: hosts.map((h) => h.toLowerCase()), origins };
}

/** Entries of a comma-separated list: `host` (https only) or a full origin such as `http://127.0.0.1:9000`. */
export function parseAllowlist(list: string): HostAllowlist {
  const entries = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return allowlist(
    entries.filter((e) => !e.includes('://')),
    ...entries.filter((e) => e.includes('://')),
  );
}

export function isAllowed(url: URL, allow: HostAllowlist): boolean {
  if (allow.origins.includes(url.origin)) return true;
  return url.protocol === 'https:' && allow.hosts.includes(url.hostname.toLowerCase());
}

/**
 * GET `url` if it is on the allowlist, following at most `maxRedirects` redirects that stay on it. `headers`
 * (the platform's auth) go only to the first URL's origin: a redirect elsewhere on the list goes without them.
 */
export async function fetchFromHosts(
  url: string,
  allow: HostAllowlist,
  init: { headers?: Record<string, string>; signal?: AbortSignal; maxRedirects?: number } = {},
): Promise<Response> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new AttachmentRefused('host');
  }
  const origin = target.origin;
  for (let hop = 0; hop <= (init.maxRedirects ?? 3); hop++) {
    if (!isAllowed(target, allow)) throw new AttachmentRefused('host');
    const headers = target.origin === origin ? init.headers : undefined;
    const res = await fetch(target, { headers, signal: init.signal, redirect: 'manual' }).catch(() => {
      throw new AttachmentRefused('unavailable');
    });
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel();
      target = new URL(location, target);
      continue;
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new AttachmentRefused('unavailable');
    }
    return res;
  }
  throw new AttachmentRefused('unavailable');
}

/**
 * The body, at most `maxBytes`: refused at once when Content-Length says more, else read chunk by chunk and the
 * download cancelled as soon as it passes the cap (a lying or missing length cannot make us hold more).
 */
export async function readCapped(res: Response, maxBytes: number): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await res.body?.cancel();
    throw new AttachmentRefused('too_big', declared);
  }
  if (!res.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let total = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new AttachmentRefused('too_big', Number.isFinite(declared) ? declared : undefined);
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks, total);
}

/** A `data:` URL's bytes and declared type (base64 or percent-encoded); undefined when it is not one. */
export function decodeDataUrl(url: string): { bytes: Buffer; mimeType?: string } | undefined {
  const m = /^data:([^,;]*)((?:;[^,;]*)*),(.*)$/s.exec(url);
  if (!m) return undefined;
  const base64 = (m[2] ?? '').split(';').includes('base64');
  const body = m[3] ?? '';
  const bytes = base64 ? Buffer.from(body, 'base64') : Buffer.from(decodeURIComponent(body), 'utf8');
  return { bytes, ...(m[1] ? { mimeType: m[1] } : {}) };
}

/** Decoded size of a `data:` URL without decoding it (for caps at ingress). */
export function dataUrlBytes(url: string): number {
  const comma = url.indexOf(',');
  const head = url.slice(0, comma);
  const body = url.length - comma - 1;
  return head.includes(';base64') ? Math.floor((body * 3) / 4) : body;
}
