/**
 * Discord live previews on the real pipeline (real discord.js against the loopback fake): the answer appears as
 * one message edited in place while the model writes, throttled under the edit rate limit, and the outbox turns
 * that message into the reply instead of posting a second copy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageCreate, person, snowflake } from '../fakes/discord/index.js';
import {
  commandInteraction,
  postInteraction,
  startDiscordApp,
  waitFor,
  type DiscordApp,
} from '../adapters/discord/pipeline-helpers.js';
import { createRedis } from '../../src/queue/redis.js';
import { keys } from '../../src/queue/keys.js';
import { REDIS_URL } from '../helpers/services.js';
import { nonceFor } from '../../adapters/discord/send.js';

let d: DiscordApp;
beforeAll(async () => {
  d = await startDiscordApp({ env: { RATE_LIMIT_PER_MINUTE: '0' } });
});
afterAll(async () => {
  await d?.app.close();
  await d?.fake.stop();
});

const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`).join(' ');
const posts = (channelId: string) => d.fake.rest.calls('POST', new RegExp(`^/channels/${channelId}/messages$`));
const edits = (channelId: string) => d.fake.rest.calls('PATCH', new RegExp(`^/channels/${channelId}/messages/\\d+$`));

describe('discord live preview', () => {
  it('one message, edited in place while the answer is written, ends as the full reply', async () => {
    const channelId = snowflake();
    const text = `[[drip:100]] ${words(60)}`;
    d.fake.gateway.dispatch(
      'MESSAGE_CREATE',
      messageCreate({ guildId: null, channelId, author: person('Ada'), content: text }),
    );
    const final = `Echo: ${text}`;
    await waitFor(() => d.fake.rest.contents(channelId)[0] === final, 'the final reply in the preview message');
    await new Promise((r) => setTimeout(r, 500)); // nothing else may follow
    expect(d.fake.rest.contents(channelId)).toEqual([final]);
    expect(posts(channelId)).toHaveLength(1);
    const id = d.fake.rest.messages.find((m) => m.channelId === channelId)!.message.id as string;
    const versions = d.fake.rest.versions(id);
    // At least two updates before the final text: the preview grew while the model wrote.
    expect(versions.length).toBeGreaterThanOrEqual(3);
    expect(versions[0]).toMatch(/^Echo: .* …$/);
    expect(versions.at(-1)).toBe(final);
    // Throttled: preview edits at least about a second apart (the final edit is the outbox's).
    const at = [posts(channelId)[0]!.at, ...edits(channelId).map((e) => e.at)];
    for (let i = 1; i < at.length - 1; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(1_100);
  });

  it('a worker killed mid-stream: the retried turn takes the orphan preview over, one final answer', async () => {
    // What a killed worker leaves: a half-written preview, recorded under the turn's first event.
    const channelId = snowflake();
    const author = person('Cy');
    const messageId = snowflake();
    const res = await fetch(`${d.fake.apiUrl}/v10/channels/${channelId}/messages`, {
      method: 'POST',
      headers: { authorization: `Bot ${d.fake.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'Echo: [[drip:50]] w0 w1 …' }),
    });
    const orphan = ((await res.json()) as { id: string }).id;
    const redis = createRedis(REDIS_URL);
    try {
      await redis.hset(
        keys(d.app.config.KEY_PREFIX).previews(`discord:dm:dm:${author.id}`),
        `discord:${messageId}`,
        orphan,
      );
    } finally {
      redis.disconnect();
    }
    const text = `[[drip:50]] ${words(20)}`;
    d.fake.gateway.dispatch(
      'MESSAGE_CREATE',
      messageCreate({ id: messageId, guildId: null, channelId, author, content: text }),
    );
    const final = `Echo: ${text}`;
    await waitFor(() => d.fake.rest.contents(channelId)[0] === final, 'the final reply in the orphan preview');
    await new Promise((r) => setTimeout(r, 500));
    expect(d.fake.rest.contents(channelId)).toEqual([final]);
    expect(posts(channelId)).toHaveLength(1); // only the orphan itself: nothing posted twice
  });

  it('a worker killed after posting its preview but before recording it: the retry finds that message again', async () => {
    // The killed attempt's post reached Discord, its record in Redis did not: only the nonce ties them.
    const channelId = snowflake();
    const messageId = snowflake();
    const res = await fetch(`${d.fake.apiUrl}/v10/channels/${channelId}/messages`, {
      method: 'POST',
      headers: { authorization: `Bot ${d.fake.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        content: 'Echo: [[drip:50]] w0 w1 …',
        nonce: nonceFor(`preview:discord:${messageId}`),
        enforce_nonce: true,
      }),
    });
    expect(res.status).toBe(200);
    const text = `[[drip:50]] ${words(20)}`;
    d.fake.gateway.dispatch(
      'MESSAGE_CREATE',
      messageCreate({ id: messageId, guildId: null, channelId, author: person('Di'), content: text }),
    );
    const final = `Echo: ${text}`;
    await waitFor(() => d.fake.rest.contents(channelId)[0] === final, 'the final reply in the unrecorded preview');
    await new Promise((r) => setTimeout(r, 500));
    expect(d.fake.rest.contents(channelId)).toEqual([final]); // one message: no second preview, no second answer
  });

  it('/stop ends a slow turn within a second: the preview becomes the partial answer, marked as stopped', async () => {
    const channelId = snowflake();
    const author = person('Stu');
    // About 60 deltas 300 ms apart: some 18 s unless stopped.
    const content = `[[drip:300]] ${words(180)}`;
    d.fake.gateway.dispatch('MESSAGE_CREATE', messageCreate({ guildId: null, channelId, author, content }));
    await waitFor(() => posts(channelId).length > 0, 'the preview');
    // The slash command in the same DM (no guild, no member: the user who invoked it).
    const stop = commandInteraction('stop', {
      channel_id: channelId,
      guild_id: undefined,
      member: undefined,
      user: author,
    });
    const asked = Date.now();
    const res = await postInteraction(d.app.url, d.signer, stop);
    expect(res.status).toBe(200);
    const stopped = await waitFor(
      () => d.fake.rest.contents(channelId).find((t) => /\(stopped\)_$/.test(t)),
      'the stopped answer',
      10_000,
    );
    const took = Date.now() - asked;
    console.log(JSON.stringify({ discordStopMs: took }));
    expect(took).toBeLessThan(1_000);
    expect(stopped).toMatch(/^Echo: \[\[drip:300\]\] .*_\(stopped\)_$/s);
    expect(stopped.length).toBeLessThan(400);
    const original = new RegExp(`^/webhooks/${stop.application_id}/${stop.token}/messages/@original$`);
    const ack = await waitFor(() => d.fake.rest.calls('PATCH', original)[0], 'the command answer');
    expect(ack.body.content).toMatch(/Stopping/);
    await new Promise((r) => setTimeout(r, 1_500)); // a second answer would show up now
    expect(d.fake.rest.contents(channelId)).toEqual([stopped]); // the preview became it: one message
  });

  it('off by configuration: the reply is posted once, never edited', async () => {
    const off = await startDiscordApp({ env: { RATE_LIMIT_PER_MINUTE: '0', LIVE_PREVIEWS_OFF: 'discord' } });
    try {
      const channelId = snowflake();
      off.fake.gateway.dispatch(
        'MESSAGE_CREATE',
        messageCreate({ guildId: null, channelId, author: person('Bo'), content: `[[drip:50]] ${words(20)}` }),
      );
      await waitFor(() => off.fake.rest.contents(channelId).length === 1, 'the reply');
      expect(off.fake.rest.calls('PATCH', /\/messages\/\d+$/)).toHaveLength(0);
    } finally {
      await off.app.close();
      await off.fake.stop();
    }
  });
});
