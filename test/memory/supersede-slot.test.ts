/**
 * A changed value replaces the old one by meaning, whichever extractor wrote it: the model extractor may give no
 * subject, or another wording of it, and the rule (extract/slot.ts) reads the slot from the fact itself. Things
 * people have several of (instruments, allergies) are only ever added. On the real embedded store, with both
 * offline embedders: the decision does not depend on either.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { consolidate } from '../../src/memory/consolidate.js';
import { createEmbedder } from '../../src/memory/embed/index.js';
import { LexicalEmbedder } from '../../src/memory/embed/lexical.js';
import type { MemoryOp } from '../../src/memory/extract/types.js';
import { recallFacts } from '../../src/memory/recall.js';
import { PostgresMemoryStore } from '../../src/memory/store/postgres.js';
import { createTestDatabase, testConfig, type TestDatabase } from '../helpers/services.js';

const add = (text: string, subject: string | null = null): MemoryOp => ({ op: 'add', text, subject, target: null });

describe.each([
  ['word vectors', () => createEmbedder(testConfig())],
  ['lexical', () => new LexicalEmbedder()],
])('supersede by meaning (%s embedder)', (_name, embedder) => {
  let scratch: TestDatabase;
  let database: Database;
  let store: PostgresMemoryStore;
  let n = 0;

  beforeAll(async () => {
    scratch = await createTestDatabase();
    database = openDatabase(scratch.url, 4);
    store = new PostgresMemoryStore(database.sql, database.db, embedder());
  });
  afterAll(async () => {
    await database?.close();
    await scratch?.drop();
  });

  /** Tells the ops in order, as separate extraction runs; returns the user's current facts. */
  async function tell(...ops: MemoryOp[]): Promise<{ user: string; facts: string[] }> {
    const user = `local:default:slot${n++}`;
    for (const op of ops) await consolidate(store, user, [op], await store.list(user, { kind: 'fact' }));
    return { user, facts: (await store.list(user, { kind: 'fact' })).map((m) => m.text).sort() };
  }

  it('favourite colour: a new value with no subject, or another spelling, replaces the old one', async () => {
    const { user, facts } = await tell(
      add("The user's favourite colour is green.", 'favourite colour'),
      add("The user's favorite color is now blue."),
    );
    expect(facts).toEqual(["The user's favorite color is now blue."]);
    const settings = { limit: 5, maxChars: 2_000, halfLifeDays: 30 };
    const recalled = await recallFacts(store, user, 'what is my favourite colour?', new Date(), settings);
    expect(recalled.map((m) => m.text)).toEqual(["The user's favorite color is now blue."]);
  });

  it('works at / lives in: a new employer or city replaces the old, whatever the verb or subject', async () => {
    const after = async (first: string, then: MemoryOp) => (await tell(add(first), then)).facts;
    const globex = 'The user works for Globex.';
    expect(await after('The user works at Acme Robotics.', add(globex))).toEqual([globex]);
    const employer = add("The user's employer is Initech.", 'employer');
    expect(await after('The user works at Acme.', employer)).toEqual(["The user's employer is Initech."]);
    const porto = 'The user has moved to Porto.';
    expect(await after('The user lives in Lisbon.', add(porto))).toEqual([porto]);
  });

  it('keeps things people have several of, and different facts about the same person', async () => {
    const both = async (a: string, b: string) => (await tell(add(a), add(b))).facts;
    expect(await both('The user plays the cello.', 'The user plays football.')).toHaveLength(2);
    expect(await both('The user is allergic to peanuts.', 'The user is allergic to cats.')).toHaveLength(2);
    expect(await both("The user's son is studying medicine.", "The user's son is called Leo.")).toHaveLength(2);
    expect(await both("The user's wife works as a nurse.", "The user's wife is called Sofia.")).toHaveLength(2);
  });
});
