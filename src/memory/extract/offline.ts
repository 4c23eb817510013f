/**
 * The offline extractor and summariser: deterministic, for development without a model key and for tests. It
 * understands plain phrasings in the user's own lines (assistant lines are never a source of facts):
 *   "remember that X"            -> add X (as a "my A is B" fact when it is one)
 *   "my A is B" / "my A are B"   -> the user's A is B (supersedes an older A)
 *   "A is B now" / "it is B now" -> update A (for "it"/"that": the last subject mentioned, else the newest known one)
 *   "forget A" / "forget that X" -> delete the matching fact; "forget everything" -> delete all
 */
import type { ConversationLine, ExtractInput, FactExtractor, MemoryOp, Summariser } from './types.js';

const MY_FACT = /^my\s+(.{1,60}?)\s+(?:is|are)\s+(?:now\s+)?(.+?)(?:\s+now)?$/i;
const NOW_FACT = /^(it|that|this|(?:the\s+)?[\p{L}\p{N}' -]{1,40}?)(?:\s+(?:is|are)|'s)\s+(?:now\s+)?(.+?)\s+now$/iu;
const REMEMBER = /^(?:please\s+)?remember(?:\s+that)?\s+(.+)$/i;
const FORGET = /^(?:please\s+)?forget(?:\s+(?:that|about))?\s+(.+)$/i;
const EVERYTHING = /^(?:everything|all)(?:\s+(?:about me|you know(?:\s+about me)?))?$/i;

/** "my cat is Tom" -> "The user's cat is Tom."; "I parked on level 3" -> "The user parked on level 3." */
export function thirdPerson(s: string): string {
  const t = s
    .replace(/\bI'm\b/g, 'the user is')
    .replace(/\bI am\b/g, 'the user is')
    .replace(/\bI\b/g, 'the user')
    .replace(/\bmy\b/gi, "the user's")
    .replace(/\bme\b/gi, 'the user')
    .trim();
  const body = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(body) ? body : `${body}.`;
}

function clean(s: string): string {
  return s
    .replace(/\[\[[^\]]*\]\]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[.!]+$/, '')
    .trim();
}

function sentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+|\n+/)
    .map(clean)
    .filter(Boolean);
}

const fact = (subject: string, value: string): MemoryOp => ({
  op: 'update',
  text: `The user's ${subject} is ${value}.`,
  subject,
  target: null,
});

/** The subject shown in a stored fact ("The user's favourite colour is blue." -> "favourite colour"). */
function shownSubject(text: string): string | null {
  return /^The user's (.+?) (?:is|are) /.exec(text)?.[1] ?? null;
}

/** One statement -> operations; `lastSubject` resolves "it". Exported for the remember tool. */
export function parseStatement(s: string, lastSubject: () => string | null): MemoryOp[] {
  const forget = FORGET.exec(s);
  if (forget) {
    const what = forget[1]!.trim();
    if (EVERYTHING.test(what)) return [{ op: 'delete', text: 'everything', subject: null, target: 'all' }];
    const mine = /^my\s+(.+)$/i.exec(what);
    return [{ op: 'delete', text: what, subject: mine ? mine[1]!.trim() : null, target: null }];
  }
  const remember = REMEMBER.exec(s);
  if (remember) {
    const inner = clean(remember[1]!);
    const mine = MY_FACT.exec(inner);
    return [
      mine
        ? fact(mine[1]!.trim(), mine[2]!.trim())
        : { op: 'add', text: thirdPerson(inner), subject: null, target: null },
    ];
  }
  const mine = MY_FACT.exec(s);
  if (mine) return [fact(mine[1]!.trim(), mine[2]!.trim())];
  const now = NOW_FACT.exec(s);
  if (now) {
    const who = now[1]!.trim().replace(/^the\s+/i, '');
    const subject = /^(it|that|this)$/i.test(who) ? lastSubject() : who;
    if (subject) return [fact(subject, now[2]!.trim())];
  }
  return [];
}

export class OfflineExtractor implements FactExtractor {
  async extract({ lines, known }: ExtractInput): Promise<MemoryOp[]> {
    let last: string | null = null;
    const newestKnown = () => {
      const k = known.find((m) => m.subject);
      return k ? (shownSubject(k.text) ?? k.subject) : null;
    };
    const ops: MemoryOp[] = [];
    for (const line of lines) {
      if (line.role !== 'user') continue;
      for (const s of sentences(line.text)) {
        const found = parseStatement(s, () => last ?? newestKnown());
        for (const op of found) if (op.subject && op.op !== 'delete') last = op.subject;
        if (line.isNew) ops.push(...found);
      }
    }
    return ops;
  }
}

/** Keeps the newest user lines that fit: deterministic, and facts are flushed separately anyway. */
export class OfflineSummariser implements Summariser {
  async summarise({
    previous,
    lines,
    maxChars,
  }: {
    previous: string | null;
    lines: ConversationLine[];
    maxChars: number;
  }): Promise<string> {
    const said = lines
      .filter((l) => l.role === 'user')
      .map((l) => clean(l.text))
      .filter(Boolean);
    const head = 'Earlier the user said: ';
    const parts = [...(previous ? [previous.replace(head, '')] : []), ...said];
    while (parts.length > 1 && (head + parts.join(' | ')).length > maxChars) parts.shift();
    return (head + parts.join(' | ')).slice(0, maxChars);
  }
}
