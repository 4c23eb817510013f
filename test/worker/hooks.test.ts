/** Modules steer turns through hooks: add instructions, answer without the model, or hold messages for later. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayModule, TurnContext, TurnOutcome } from '../../src/core/module.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

let deferring = true;
const seen: { ctx: TurnContext; outcome: TurnOutcome }[] = [];
const testModule: GatewayModule = {
  name: 'test',
  hooks: {
    async beforeRun(ctx) {
      const text = ctx.events.map((e) => e.text).join(' ');
      if (text.includes('refuse me')) return { action: 'reply', text: 'Not allowed.', outcome: 'refused' };
      if (text.includes('hold me') && deferring) return { action: 'defer', delayMs: 200 };
      ctx.instructions.push(`The user is ${ctx.userKey}.`);
    },
    async afterCommit(ctx, outcome) {
      seen.push({ ctx, outcome });
    },
  },
};

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ extraModules: () => [testModule] });
});
afterAll(async () => app?.close());
const say = (conversation: string, text: string, wait = true) => app.post('/local/messages', { conversation, user: 'ann', text, wait });

describe('turn hooks', () => {
  it('adds per-turn instructions the model sees', async () => {
    const res = await say('h1', 'show [[instructions]]');
    expect(res.body.replies[0].text).toContain('The user is local:default:ann.');
    expect(res.body.replies[0].text).toContain(app.config.AGENT_INSTRUCTIONS);
  });

  it('answers without the model when a module says so, and the turn is recorded', async () => {
    const res = await say('h2', 'please refuse me');
    expect(res.body.replies).toEqual([{ text: 'Not allowed.' }]);
    const after = seen.find((s) => s.ctx.conversationKey === 'local:default:h2');
    expect(after?.outcome).toMatchObject({ outcome: 'refused', reply: 'Not allowed.', inputTokens: 0 });
  });

  it('holds messages while deferred and answers them, in order and once, afterwards', async () => {
    expect((await say('h3', 'hold me 1', false)).status).toBe(202);
    expect((await say('h3', 'hold me 2', false)).status).toBe(202);
    await new Promise((r) => setTimeout(r, 800));
    const read = async () => ((await (await fetch(`${app.url}/local/conversations/h3/messages`)).json()) as { replies: { text: string }[] }).replies;
    expect(await read()).toEqual([]);
    deferring = false;
    for (let i = 0; i < 100 && !(await read()).length; i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500));
    expect((await read()).map((r) => r.text)).toEqual(['Echo: [ann] hold me 1 | [ann] hold me 2']);
  });
});
