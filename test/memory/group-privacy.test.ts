/**
 * Memory in group chats, end to end through the local channel (offline model and extractor):
 * - facts are attributed by sender id, never by the display name shown to the model: two members called "Alex"
 *   keep their own memories, and nobody plants facts in someone else's memory by taking their name;
 * - memories keep the scope where they were learned: what a user told the bot in a DM never reaches a group's
 *   prompt (read with the offline model's `[[instructions]]` phrase), nor `/memory` in the group, unless they
 *   share it with `/memory share <id>`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeQdrant, type FakeQdrant } from '../fakes/qdrant/server.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { waitFor } from '../helpers/wait.js';

describe.each(['postgres', 'qdrant'] as const)('group memory privacy (%s store)', (storeName) => {
  let app: TestApp;
  let fake: FakeQdrant | undefined;

  beforeAll(async () => {
    if (storeName === 'qdrant') fake = await startFakeQdrant();
    app = await startTestApp({
      env: { MEMORY_EXTRACT_DELAY_MS: '100', ...(fake ? { QDRANT_URL: fake.url } : {}) },
    });
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  const send = async (o: { conversation: string; user: string; text: string; kind: 'dm' | 'group'; name?: string }) => {
    const res = await app.post('/local/messages', { ...o, wait: true });
    expect(res.status).toBe(200);
    return (res.body.replies as { text: string }[]).map((r) => r.text).join('\n');
  };
  const facts = async (user: string) =>
    (await app.services.memory!.listMemories(`local:default:${user}`)).filter((m) => m.kind === 'fact');
  const until = (user: string, what: string, ok: (texts: string[]) => boolean) =>
    waitFor(
      async () => {
        const t = (await facts(user)).map((m) => m.text);
        return ok(t) && t;
      },
      what,
      15_000,
    );

  it('two members with the same display name keep their own memories; a name never carries facts across', async () => {
    const room = `alex-room-${storeName}`;
    await send({ conversation: room, user: 'alex-1', name: 'Alex', text: 'my dog is called Rex', kind: 'group' });
    await until('alex-1', "the first Alex's dog", (t) => t.includes("The user's dog is called Rex."));
    await send({ conversation: room, user: 'alex-2', name: 'Alex', text: 'my cat is called Tom', kind: 'group' });
    await until('alex-2', "the second Alex's cat", (t) => t.includes("The user's cat is called Tom."));
    // The first Alex speaks again: their extraction reads the lines since their last run, the other Alex's included.
    await send({ conversation: room, user: 'alex-1', name: 'Alex', text: 'my car is a Fiat', kind: 'group' });
    await until('alex-1', "the first Alex's car", (t) => t.includes("The user's car is a Fiat."));
    expect((await facts('alex-1')).map((m) => m.text).sort()).toEqual([
      "The user's car is a Fiat.",
      "The user's dog is called Rex.",
    ]);
    expect((await facts('alex-2')).map((m) => m.text)).toEqual(["The user's cat is called Tom."]);
  });

  it('a DM fact never reaches a group prompt or the group /memory list; a group recalls what was learned there', async () => {
    const user = `zoe-${storeName}`;
    const room = `team-${storeName}`;
    await send({ conversation: user, user, text: 'my therapist is called Dr Hale', kind: 'dm' });
    await until(user, 'the DM fact', (t) => t.includes("The user's therapist is called Dr Hale."));
    await send({ conversation: room, user, name: 'Zoe', text: 'my favourite team is Benfica', kind: 'group' });
    await until(user, 'the group fact', (t) => t.includes("The user's favourite team is Benfica."));

    const inGroup = await send({
      conversation: room,
      user,
      name: 'Zoe',
      text: 'who is my therapist and what is my team? [[instructions]]',
      kind: 'group',
    });
    expect(inGroup).toContain("- The user's favourite team is Benfica.");
    expect(inGroup).not.toContain('Hale');
    const elsewhere = await send({
      conversation: `${room}-other`,
      user,
      name: 'Zoe',
      text: 'who is my therapist and what is my team? [[instructions]]',
      kind: 'group',
    });
    expect(elsewhere).not.toContain('Hale');
    expect(elsewhere).not.toContain('Benfica');
    // In the DM everything of the user's is recalled.
    const inDm = await send({
      conversation: user,
      user,
      text: 'who is my therapist and what is my team? [[instructions]]',
      kind: 'dm',
    });
    expect(inDm).toContain('Dr Hale');
    expect(inDm).toContain('Benfica');

    const listed = await send({ conversation: room, user, name: 'Zoe', text: '/memory', kind: 'group' });
    expect(listed).toContain('Benfica');
    expect(listed).not.toContain('Hale');
    expect(await send({ conversation: user, user, text: '/memory', kind: 'dm' })).toContain('Hale');
  });

  it('/memory share <id> lets the owner take one DM memory into groups; unshare makes it private again', async () => {
    const user = `yan-${storeName}`;
    const room = `club-${storeName}`;
    await send({ conversation: user, user, text: 'my nickname is Tiger', kind: 'dm' });
    await until(user, 'the DM fact', (t) => t.includes("The user's nickname is Tiger."));
    const [m] = await facts(user);
    const ask = () =>
      send({ conversation: room, user, name: 'Yan', text: 'what is my nickname? [[instructions]]', kind: 'group' });
    expect(await ask()).not.toContain('Tiger');
    // Someone else cannot share it, even knowing its id.
    expect(await send({ conversation: room, user: 'nosy', text: `/memory share ${m!.id}`, kind: 'group' })).toContain(
      'I have no memory',
    );
    expect(await ask()).not.toContain('Tiger');
    expect(await send({ conversation: user, user, text: `/memory share ${m!.id}`, kind: 'dm' })).toContain('Shared');
    expect(await ask()).toContain("- The user's nickname is Tiger.");
    expect(await send({ conversation: user, user, text: `/memory unshare ${m!.id}`, kind: 'dm' })).toContain(
      'private again',
    );
    expect(await ask()).not.toContain('Tiger');
  });
});
