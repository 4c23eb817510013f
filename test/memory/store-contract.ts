/**
 * The memory-store contract (src/memory/types.ts), run against every implementation: the embedded Postgres store,
 * the Qdrant store on the loopback fake, and a real Qdrant when QDRANT_URL is set. Each suite gets fresh user keys,
 * so it also passes on a shared server.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MemoryStore } from '../../src/memory/types.js';

export interface StoreHarness {
  store: MemoryStore;
  close(): Promise<void>;
}

const texts = (ms: { text: string }[]) => ms.map((m) => m.text);

export function storeContract(label: string, open: () => Promise<StoreHarness>, opts: { skip?: boolean } = {}): void {
  describe.skipIf(!!opts.skip)(`memory store contract: ${label}`, () => {
    let h: StoreHarness;
    let store: MemoryStore;
    const run = randomBytes(4).toString('hex');
    const user = (name: string) => `local:${run}:${name}`;

    beforeAll(async () => {
      h = await open();
      store = h.store;
    });
    afterAll(async () => h?.close());

    it("adds a memory and lists the user's memories newest first", async () => {
      const u = user('list');
      const day = 86_400_000;
      const a = await store.add(u, {
        text: 'The user lives in Lisbon.',
        subject: 'home city',
        createdAt: new Date(Date.now() - 2 * day),
      });
      await store.add(u, { text: 'The user plays the cello.', createdAt: new Date(Date.now() - day) });
      await store.add(u, { text: 'The user has a dog called Rex.' });
      expect(a).toMatchObject({
        userKey: u,
        kind: 'fact',
        text: 'The user lives in Lisbon.',
        subject: 'home city',
        source: null,
      });
      expect(a.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(texts(await store.list(u))).toEqual([
        'The user has a dog called Rex.',
        'The user plays the cello.',
        'The user lives in Lisbon.',
      ]);
      expect(texts(await store.list(u, { limit: 1 }))).toEqual(['The user has a dog called Rex.']);
    });

    it('recalls the most relevant memory first, and nothing for a user with no memories', async () => {
      const u = user('recall');
      await store.add(u, { text: 'The user works as a nurse in a hospital.' });
      await store.add(u, { text: "The user's favourite colour is teal." });
      await store.add(u, { text: 'The user is allergic to peanuts.' });
      const hits = await store.search(u, 'what is my favourite colour?', { limit: 3 });
      expect(hits[0]?.text).toBe("The user's favourite colour is teal.");
      expect(hits.every((h, i) => i === 0 || h.score <= hits[i - 1]!.score)).toBe(true);
      expect((await store.search(u, 'peanut allergy', { limit: 1 })).map((h) => h.text)).toEqual([
        'The user is allergic to peanuts.',
      ]);
      expect(await store.search(user('nobody'), 'favourite colour', { limit: 5 })).toEqual([]);
    });

    it('keeps summaries apart from facts by kind', async () => {
      const u = user('kind');
      await store.add(u, { text: 'The user is learning Japanese.' });
      await store.add(u, {
        text: 'Earlier the user said: I am learning Japanese',
        kind: 'summary',
        source: 'local:default:c1',
      });
      expect(texts(await store.search(u, 'learning Japanese', { limit: 5, kind: 'fact' }))).toEqual([
        'The user is learning Japanese.',
      ]);
      const summaries = await store.list(u, { kind: 'summary' });
      expect(summaries.map((m) => [m.kind, m.source])).toEqual([['summary', 'local:default:c1']]);
    });

    it('supersedes: the new value is listed and recalled, the old one never again', async () => {
      const u = user('supersede');
      const blue = await store.add(u, { text: "The user's favourite colour is blue.", subject: 'favorite color' });
      const green = await store.supersede(u, blue.id, {
        text: "The user's favourite colour is green.",
        subject: 'favorite color',
      });
      expect(green.id).not.toBe(blue.id);
      expect(texts(await store.list(u))).toEqual(["The user's favourite colour is green."]);
      expect(texts(await store.search(u, 'favourite colour blue', { limit: 5 }))).toEqual([
        "The user's favourite colour is green.",
      ]);
    });

    it('forgets one memory by id, and everything (superseded ones too) with "all"', async () => {
      const u = user('forget');
      const a = await store.add(u, { text: 'The user drives a red van.' });
      const b = await store.add(u, { text: 'The user was born in March.' });
      expect(await store.delete(u, a.id)).toBe(1);
      expect(await store.delete(u, a.id)).toBe(0);
      expect(await store.delete(u, 'not-an-id')).toBe(0);
      expect(texts(await store.list(u))).toEqual(['The user was born in March.']);
      expect(await store.search(u, 'red van', { limit: 5 })).not.toContainEqual(
        expect.objectContaining({ text: 'The user drives a red van.' }),
      );
      await store.supersede(u, b.id, { text: 'The user was born in April.' });
      // What the user is told ("forgot N memories") counts what they could see, not retired versions.
      expect(await store.delete(u, 'all')).toBe(1);
      expect(await store.list(u)).toEqual([]);
      expect(await store.search(u, 'born March April', { limit: 5 })).toEqual([]);
    });

    describe('conversation scope', () => {
      const u = user('scoped');
      const dm = 'local:default:dm:scoped';
      const group = 'local:default:team-room';
      let secretId: string;
      beforeAll(async () => {
        secretId = (await store.add(u, { text: 'The user is seeing a therapist about anxiety.', scope: dm })).id;
        await store.add(u, { text: 'The user is the release manager of the team.', scope: group });
        await store.add(u, {
          text: 'The user is planning a surprise party for the team.',
          scope: 'local:default:other-room',
        });
        await store.add(u, { text: 'The user once told the team about a therapist friend.' }); // no scope (older rows): private
      });

      it('a group sees only what was learned in it; a DM (no visibleIn) sees everything', async () => {
        const inGroup = { visibleIn: group };
        expect(texts(await store.search(u, 'therapist anxiety team party release', { limit: 10, ...inGroup }))).toEqual(
          ['The user is the release manager of the team.'],
        );
        expect(texts(await store.list(u, inGroup))).toEqual(['The user is the release manager of the team.']);
        expect(texts(await store.list(u, { kind: 'fact', ...inGroup }))).toEqual([
          'The user is the release manager of the team.',
        ]);
        expect(await store.list(u)).toHaveLength(4);
        expect((await store.search(u, 'therapist', { limit: 10 })).map((m) => m.scope)).toContain(dm);
      });

      it('a memory its owner shares is recalled in every group; unshared, it is private again', async () => {
        expect(await store.setShared(user('intruder'), secretId, true)).toBe(false);
        expect(await store.setShared(u, 'not-an-id', true)).toBe(false);
        expect(texts(await store.search(u, 'therapist anxiety', { limit: 10, visibleIn: group }))).not.toContain(
          'The user is seeing a therapist about anxiety.',
        );
        expect(await store.setShared(u, secretId, true)).toBe(true);
        const shared = await store.search(u, 'therapist anxiety', { limit: 10, visibleIn: 'local:default:any-room' });
        expect(shared.map((m) => [m.text, m.shared])).toEqual([
          ['The user is seeing a therapist about anxiety.', true],
        ]);
        expect(texts(await store.list(u, { visibleIn: group }))).toContain(
          'The user is seeing a therapist about anxiety.',
        );
        expect(await store.setShared(u, secretId, false)).toBe(true);
        expect(await store.search(u, 'therapist anxiety', { limit: 10, visibleIn: 'local:default:any-room' })).toEqual(
          [],
        );
      });

      it('a superseding memory has the scope where the new value was said', async () => {
        const v = user('scoped-supersede');
        const old = await store.add(v, { text: "The user's team is Falcons.", subject: 'team', scope: group });
        await store.supersede(v, old.id, { text: "The user's team is Eagles.", subject: 'team', scope: dm });
        expect(await store.list(v, { visibleIn: group })).toEqual([]);
        expect((await store.list(v)).map((m) => [m.text, m.scope])).toEqual([["The user's team is Eagles.", dm]]);
      });
    });

    describe('user isolation', () => {
      const a = user('alice');
      const b = user('bob');
      let secret: string;
      beforeAll(async () => {
        secret = (await store.add(a, { text: "The user's bank PIN hint is pelican.", subject: 'pin hint' })).id;
        await store.add(b, { text: "The user's favourite bird is a pelican." });
      });

      it("never returns another user's memories from search or list", async () => {
        const hits = await store.search(b, 'bank PIN hint pelican', { limit: 10 });
        expect(hits.map((h) => h.userKey)).toEqual([b]);
        expect(texts(await store.list(b))).toEqual(["The user's favourite bird is a pelican."]);
        expect((await store.search(b, 'pelican', { limit: 10, kind: 'fact' })).every((h) => h.userKey === b)).toBe(
          true,
        );
      });

      it("cannot forget or supersede another user's memory, even by its id", async () => {
        expect(await store.delete(b, secret)).toBe(0);
        await store.supersede(b, secret, { text: "The user's bank PIN hint is walrus." });
        expect(await store.delete(b, 'all')).toBe(2);
        expect(texts(await store.list(a))).toEqual(["The user's bank PIN hint is pelican."]);
        expect((await store.search(a, 'PIN hint', { limit: 5 }))[0]?.id).toBe(secret);
      });
    });
  });
}
