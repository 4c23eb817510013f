/** The ingress text rule (README, "Input rule"): what is removed, what is replaced, what is kept. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cleanString, sanitizeEvent, sanitizeText } from '../../src/ingress/sanitize.js';

const FORBIDDEN =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uFDD0-\uFDEF\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe('ingress sanitiser', () => {
  it('removes NUL, other C0 / C1 controls and noncharacters, keeps tab / LF / CR, replaces lone surrogates', () => {
    expect(sanitizeText('a\u0000b\u0007c\u001Bd\u007Fe\u0085f\u009Fg')).toBe('abcdefg');
    expect(sanitizeText('line\tone\r\nline two\n')).toBe('line\tone\r\nline two\n');
    expect(sanitizeText('x\uD800y')).toBe('x\uFFFDy');
    expect(sanitizeText('x\uDC00y\uD83D')).toBe('x\uFFFDy\uFFFD');
    expect(sanitizeText('emoji \u{1F600} kept')).toBe('emoji \u{1F600} kept');
    expect(sanitizeText('a\uFDD0b\uFFFEc\u{1FFFF}d\u{10FFFE}e')).toBe('abcde');
    expect(sanitizeText('Cafe\u0301')).toBe('Caf\u00E9'); // NFC for text a person wrote
    expect(cleanString('Cafe\u0301')).toBe('Cafe\u0301'); // ids, URLs and MIME types are left exactly as sent
  });

  it('is idempotent and leaves nothing Postgres or a log could choke on (any string)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const once = sanitizeText(s);
        expect(sanitizeText(once)).toBe(once);
        expect(FORBIDDEN.test(once)).toBe(false);
        expect(FORBIDDEN.test(cleanString(s))).toBe(false);
      }),
      { numRuns: 2_000 },
    );
  });

  it('applies to every stored string of an event, not only its text, and keeps the raw payload aside', () => {
    const raw = { untouched: 'a\u0000b' };
    const e = sanitizeEvent({
      id: 'local:\u0000x',
      text: 'hi\u0000',
      raw,
      sender: { id: 'u\u0000', name: 'Ann\uD800', isBot: false },
      conversation: { platform: 'local', tenant: 'default', channel: 'c\u0001', kind: 'dm', user: 'u\u0000' },
      attachments: [{ name: 'f\u0000.txt', mimeType: 'text/\u0000plain', url: 'https://x/\u0000' }],
    });
    expect(e).toMatchObject({
      id: 'local:x',
      text: 'hi',
      sender: { id: 'u', name: 'Ann\uFFFD' },
      conversation: { channel: 'c', user: 'u' },
      attachments: [{ name: 'f.txt', mimeType: 'text/plain', url: 'https://x/' }],
    });
    expect(e.raw).toBe(raw);
    expect(
      FORBIDDEN.test(JSON.stringify({ ...e, raw: undefined }).replace(/\\u[0-9a-f]{4}/gi, (m) => JSON.parse(`"${m}"`))),
    ).toBe(false);
  });
});
