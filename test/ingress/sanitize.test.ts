/** The ingress text rule (README, "Input rule"): what is removed, what is replaced, what is kept. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cleanString, sanitizeEvent, sanitizeName, sanitizeText } from '../../src/ingress/sanitize.js';

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

  it('closes bidi overrides and isolates left open in text at the end of their paragraph, and strips them from names', () => {
    const RLO = '\u202E';
    const PDF = '\u202C';
    const RLI = '\u2067';
    const PDI = '\u2069';
    // A right-to-left writer's balanced text and the bidi marks are kept as they are.
    expect(sanitizeText(`\u05E9\u05DC\u05D5\u05DD ${RLI}abc${PDI} \u200F.`)).toBe(
      `\u05E9\u05DC\u05D5\u05DD ${RLI}abc${PDI} \u200F.`,
    );
    // An override left open would reverse whatever a client shows after the message on the same line.
    expect(sanitizeText(`evil${RLO}txt.exe`)).toBe(`evil${RLO}txt.exe${PDF}`);
    expect(sanitizeText(`a${RLO}b\nc${RLI}d${RLO}e`)).toBe(`a${RLO}b${PDF}\nc${RLI}d${RLO}e${PDF}${PDI}`);
    // A PDI closes what is open inside its isolate; a PDF cannot close an isolate; stray closers are harmless.
    expect(sanitizeText(`${RLI}a${RLO}b${PDI}c`)).toBe(`${RLI}a${RLO}b${PDI}c`);
    expect(sanitizeText(`${RLI}a${PDF}b`)).toBe(`${RLI}a${PDF}b${PDI}`);
    expect(sanitizeText(`${PDF}${PDI}x`)).toBe(`${PDF}${PDI}x`);
    // Past the algorithm's depth of 125 an opener does nothing, so it is dropped rather than closed.
    expect(sanitizeText(RLO.repeat(10_000))).toBe(RLO.repeat(125) + PDF.repeat(125));
    // In names they only spoof: "Ann" shown for someone else, "photo\u202Egnp.exe" shown as "photoexe.png".
    expect(sanitizeName(`Ann${RLO}`)).toBe('Ann');
    expect(sanitizeName(`photo${RLO}gnp.exe`)).toBe('photognp.exe');
    expect(sanitizeName('\u05D3\u05E0\u05D4\u200F')).toBe('\u05D3\u05E0\u05D4\u200F');
    const e = sanitizeEvent({
      text: `hi${RLO}`,
      sender: { id: `u${RLO}`, name: `Ann${RLO}` },
      attachments: [{ name: `photo${RLO}gnp.exe` }],
    });
    expect(e).toEqual({
      text: `hi${RLO}${PDF}`,
      sender: { id: `u${RLO}`, name: 'Ann' }, // ids reach the platform again exactly as sent
      attachments: [{ name: 'photognp.exe' }],
    });
  });

  it('leaves no bidi control open in text and none in a name, idempotently (any string)', () => {
    const bidiHeavy = fc.string({
      unit: fc.constantFrom(
        'a',
        '\u05D0',
        '\n',
        '\r',
        '\u2029',
        '\u202A',
        '\u202B',
        '\u202C',
        '\u202D',
        '\u202E',
        '\u2066',
        '\u2067',
        '\u2068',
        '\u2069',
      ),
      maxLength: 300,
    });
    const unclosed = (s: string) => {
      for (const paragraph of s.split(/[\n\r\u2029]/)) {
        const open: string[] = [];
        for (const ch of paragraph) {
          if ('\u202A\u202B\u202D\u202E'.includes(ch)) open.push('e');
          else if ('\u2066\u2067\u2068'.includes(ch)) open.push('i');
          else if (ch === '\u202C' && open.at(-1) === 'e') open.pop();
          else if (ch === '\u2069' && open.includes('i')) open.length = open.lastIndexOf('i');
        }
        if (open.length > 0) return true;
      }
      return false;
    };
    fc.assert(
      fc.property(fc.oneof(bidiHeavy, fc.string({ unit: 'binary' })), (s) => {
        const text = sanitizeText(s);
        expect(unclosed(text)).toBe(false);
        expect(sanitizeText(text)).toBe(text);
        const name = sanitizeName(s);
        expect(name).not.toMatch(/[\u202A-\u202E\u2066-\u2069]/);
        expect(sanitizeName(name)).toBe(name);
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
