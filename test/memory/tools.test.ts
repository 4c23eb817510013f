/**
 * The agent's memory tools (remember / recall / forget) as the Agents SDK invokes them, on both stores: each acts
 * only for the turn's own user, whatever the arguments say.
 */
import { RunContext, type FunctionTool } from '@openai/agents';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TurnContext } from '../../src/core/module.js';
import { MemoryService } from '../../src/memory/service.js';
import { memoryTools } from '../../src/memory/tools.js';
import { openFakeQdrantStore, openPostgresStore } from './helpers.js';
import type { StoreHarness } from './store-contract.js';

function turn(userKey: string, where: 'dm' | string = 'dm'): RunContext<TurnContext> {
  const group = where !== 'dm';
  return new RunContext<TurnContext>({
    turnId: 't',
    conversationKey: group ? `local:default:${where}` : 'local:default:c',
    ref: { platform: 'local', tenant: 'default', channel: group ? where : 'c', kind: group ? 'group' : 'dm' },
    events: [],
    userKey,
    sender: { id: userKey },
    kind: 'message',
    now: new Date(),
    instructions: [],
    sessionId: null,
  } as TurnContext);
}

describe.each([
  ['postgres', openPostgresStore],
  ['qdrant (fake)', openFakeQdrantStore],
])('memory tools on %s', (_name, open: () => Promise<StoreHarness>) => {
  let h: StoreHarness;
  let call: (name: string, userKey: string, args: Record<string, unknown>, where?: string) => Promise<string>;
  const alice = 'local:default:alice';
  const bob = 'local:default:bob';

  beforeAll(async () => {
    h = await open();
    const service = new MemoryService(
      h.store,
      { limit: 8, maxChars: 2_000, halfLifeDays: 30 },
      pino({ level: 'silent' }),
    );
    const tools = new Map(memoryTools(service).map((t) => [t.name, t as FunctionTool<TurnContext>]));
    call = async (name, userKey, args, where) =>
      String(await tools.get(name)!.invoke(turn(userKey, where), JSON.stringify(args)));
  });
  afterAll(async () => h?.close());

  it('remember then recall returns the fact, with its id and date', async () => {
    expect(await call('remember', alice, { fact: 'The user parks on level 3 of the Rua Augusta garage.' })).toMatch(
      /^Remembered: /,
    );
    const out = await call('recall', alice, { query: 'where do I park?' });
    expect(out).toMatch(
      /^- \[[0-9a-f-]{36}\] The user parks on level 3 of the Rua Augusta garage\. \(noted \d{4}-\d\d-\d\d\)/,
    );
  });

  it("user B's recall never returns user A's memories, and B's forget cannot touch them", async () => {
    await call('remember', alice, { fact: "The user's locker code is 4471." });
    expect(await call('recall', bob, { query: 'locker code 4471' })).toBe('No memories found.');
    const id = /\[([0-9a-f-]{36})\] The user's locker code/.exec(
      await call('recall', alice, { query: 'locker code' }),
    )![1]!;
    expect(await call('forget', bob, { memory: id })).toBe('No such memory.');
    expect(await call('forget', bob, { memory: 'my locker code' })).toBe('No matching memory.');
    expect(await call('forget', bob, { memory: 'all' })).toBe('Forgot 0 memories.');
    expect(await call('recall', alice, { query: 'locker code' })).toContain("The user's locker code is 4471.");
  });

  it('remember with a new value of the same thing replaces the old one', async () => {
    await call('remember', alice, { fact: "The user's favourite colour is blue." });
    expect(await call('remember', alice, { fact: "The user's favourite colour is green." })).toBe(
      "Remembered: The user's favourite colour is green.",
    );
    const out = await call('recall', alice, { query: 'favourite colour blue or green' });
    expect(out).toContain('green');
    expect(out).not.toContain('blue');
    expect(await call('remember', alice, { fact: "The user's favourite colour is green." })).toBe(
      'Already remembered.',
    );
  });

  it('forget by description, then by id, then everything', async () => {
    expect(await call('forget', alice, { memory: 'my favourite colour' })).toBe(
      "Forgot: The user's favourite colour is green.",
    );
    expect(await call('recall', alice, { query: 'favourite colour' })).not.toContain('colour');
    const id = /\[([0-9a-f-]{36})\] The user parks/.exec(await call('recall', alice, { query: 'park garage' }))![1]!;
    expect(await call('forget', alice, { memory: id })).toBe('Forgotten.');
    expect(await call('forget', alice, { memory: 'everything' })).toBe('Forgot 1 memories.');
    expect(await call('recall', alice, { query: 'locker code' })).toBe('No memories found.');
  });

  it('in a group, recall and forget see only what was learned there or marked shareable; DM facts stay out', async () => {
    const carol = 'local:default:carol';
    await call('remember', carol, { fact: "The user's diagnosis is diabetes." });
    await call('remember', carol, { fact: "The user's desk is by the window." }, 'office');
    await call('remember', carol, { fact: "The user's preferred name is Caz.", shareable: true });
    const inGroup = await call('recall', carol, { query: 'diagnosis diabetes desk window preferred name' }, 'office');
    expect(inGroup).toContain("The user's desk is by the window.");
    expect(inGroup).toContain("The user's preferred name is Caz.");
    expect(inGroup).not.toContain('diabetes');
    expect(await call('recall', carol, { query: 'diagnosis diabetes' }, 'pub')).not.toContain('diabetes');
    // Forgetting by description in a group cannot reach (and quote back) a DM memory.
    expect(await call('forget', carol, { memory: 'my diagnosis' }, 'office')).toBe('No matching memory.');
    expect(await call('recall', carol, { query: 'diagnosis diabetes' })).toContain("The user's diagnosis is diabetes.");
  });

  it('refuses to run without a turn context (no way to act for an unnamed user)', async () => {
    const [remember] = memoryTools(
      new MemoryService(h.store, { limit: 8, maxChars: 2_000, halfLifeDays: 30 }, pino({ level: 'silent' })),
    );
    const out = await (remember as FunctionTool<TurnContext>).invoke(
      new RunContext<TurnContext>(),
      JSON.stringify({ fact: 'x' }),
    );
    expect(String(out)).toMatch(/error occurred/); // the SDK's error reply: the tool threw before touching a store
  });
});
