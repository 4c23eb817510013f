/**
 * Which single-valued thing a fact sets, read from its wording, so a new value replaces the old one whichever
 * extractor and embedder are on (no similarity threshold tuned for one model):
 *   "The user's favourite colour is blue."   -> "favorite color"
 *   "The user's daughter is called Mia."     -> "daughter name"
 *   "The user works at Globex." / "for ..."  -> "employer"      ("The user's employer is ..." too)
 *   "The user lives in Porto." / "moved to"  -> "home"
 * A fact with no such shape ("The user plays the cello.", "The user is allergic to peanuts.") has no slot: it is
 * only ever added, since people have many hobbies and allergies.
 */
import { subjectKey } from './types.js';

const POSSESSIVE = /^(?:the user's|my)\s+(.{1,60}?)\s+(?:is|are|was|were)\s+(\S+)/i;
const RELATION = /^(?:the user|i)\s+(?:(?:has|have)\s+)?(?:now\s+)?([a-z]+(?:\s+[a-z]+)?)\s+(at|for|in|to|as)\b/i;

/** Relations that hold one value at a time, and the slot each fills. */
const RELATIONS: Record<string, string> = {
  'works at': 'employer',
  'works for': 'employer',
  'work at': 'employer',
  'work for': 'employer',
  'is employed at': 'employer',
  'is employed by': 'employer',
  joined: 'employer',
  'works as': 'job',
  'work as': 'job',
  'is employed as': 'job',
  'lives in': 'home',
  'live in': 'home',
  'moved to': 'home',
  'is based in': 'home',
  'resides in': 'home',
  'studies at': 'school',
  'study at': 'school',
  'is married to': 'spouse',
  'am married to': 'spouse',
};

/** Subject phrases that name the same slot as a relation ("employer" = "works at"). */
const SUBJECTS: Record<string, string> = {
  employer: 'employer',
  company: 'employer',
  workplace: 'employer',
  'current employer': 'employer',
  job: 'job',
  occupation: 'job',
  profession: 'job',
  'job title': 'job',
  home: 'home',
  'home city': 'home',
  city: 'home',
  hometown: 'home',
  'home town': 'home',
  'current city': 'home',
  spouse: 'spouse',
};

/** Normalised slot of a subject phrase ("Favorite color" -> "favorite color", "home city" -> "home"). */
export function slotOfSubject(subject: string | null | undefined): string | null {
  const key = subjectKey(subject);
  return key ? (SUBJECTS[key] ?? key) : null;
}

/** The slot a fact's text fills, or null when it does not set one single value. */
export function slotOfText(text: string): string | null {
  const t = text.trim().replace(/\s+/g, ' ');
  const own = POSSESSIVE.exec(t);
  if (own) {
    const subject = slotOfSubject(own[1]);
    if (!subject) return null;
    const next = own[2]!.toLowerCase();
    // "is called Mia": the name of the thing, not the thing ("wife is called Sofia" and "wife works as a nurse").
    if (/^(called|named)$/.test(next)) return `${subject} name`;
    // "son is studying medicine": what the son does, so "son is called Leo" is another slot.
    if (/ing$/.test(next)) return `${subject} ${next}`;
    return subject;
  }
  const rel = RELATION.exec(t);
  if (rel) {
    const phrase = `${rel[1]!.toLowerCase()} ${rel[2]!.toLowerCase()}`;
    const verbOnly = rel[1]!.toLowerCase().split(' ').at(-1)!;
    return RELATIONS[phrase] ?? RELATIONS[`${verbOnly} ${rel[2]!.toLowerCase()}`] ?? null;
  }
  return null;
}

/** Every slot name a fact answers to: its stored subject and what its wording says. */
export function slotsOf(subject: string | null | undefined, text: string): Set<string> {
  const out = new Set<string>();
  const s = slotOfSubject(subject);
  if (s) out.add(s);
  const t = slotOfText(text);
  if (t) out.add(t);
  return out;
}
