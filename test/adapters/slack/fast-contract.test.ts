/** Slack runs the fast tier of the adapter contract: recorded payloads through its ingress, render, error mapping. */
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { createSlackAdapter } from '../../../adapters/slack/index.js';
import { toInvocation } from '../../../adapters/slack/commands.js';
import { dispatchSlack } from '../../../adapters/slack/ingress.js';
import { slashCommandSchema } from '../../../adapters/slack/schema.js';
import { parseSlackBody } from '../../../adapters/slack/webhook.js';
import { fastContract, memoryThreads } from '../../contract/fast-contract.js';
import { FakeSlack } from '../../fakes/slack/fake-slack.js';
import { BOT, TEAM } from '../../fakes/slack/requests.js';

let channels = 0;

fastContract('slack', async () => {
  const fake = await new FakeSlack({ botUserId: BOT, teamId: TEAM }).start();
  // Never connects: a DM send records no thread, and parsing below keeps its threads in memory.
  const idle = new Redis({ lazyConnect: true });
  const log = pino({ level: 'silent' });
  const adapter = createSlackAdapter({
    botToken: 'xoxb-fast',
    signingSecret: 'fast',
    apiUrl: fake.apiUrl,
    botUserId: BOT,
    redis: idle,
    keyPrefix: 'fast',
    log,
  });
  const threads = memoryThreads();
  const context = { botUserId: BOT, allowBots: false, edits: 'ignore', replyInThread: true, threads } as const;
  return {
    adapter,
    fixtures: {
      dir: 'slack',
      expect: {
        'block_actions.json': { kind: 'none' },
        'event_app_mention_channel.json': {
          kind: 'event',
          conversation: 'group',
          text: 'what is on the agenda today?',
          mentionsBot: true,
        },
        'event_message_file_share.json': { kind: 'event', conversation: 'dm', text: 'here is the report' },
        'event_message_im.json': { kind: 'event', conversation: 'dm', text: 'Hello hello can you hear me?' },
        // A follow-up in the thread the mention above started: answered without a new mention.
        'event_message_thread_reply.json': {
          kind: 'event',
          conversation: 'group',
          text: 'and the follow-up in the thread',
          thread: true,
        },
        'message_action.json': { kind: 'none' },
        'slash_command.txt': { kind: 'command', name: 'weather' },
        'url_verification.json': { kind: 'none' },
        'view_submission.json': { kind: 'none' },
      },
    },
    parse: async (file, raw, sink) => {
      const from = sink.mark();
      const contentType = file.endsWith('.txt') ? 'application/x-www-form-urlencoded' : 'application/json';
      const parsed = parseSlackBody(raw, contentType);
      if (!parsed.ok) throw new Error(`${file}: ${parsed.error}`);
      if (parsed.inbound.kind === 'command') {
        // The answer would go to the fixture's real response_url: run only what turns the form into a command.
        await sink.command(toInvocation(slashCommandSchema.parse(parsed.inbound.body)));
      } else {
        const ack = await dispatchSlack(parsed.inbound, { sink, log, contextFor: async () => context });
        if (ack.status !== 200) throw new Error(`${file}: answered ${ack.status}`);
      }
      return sink.outcome(from);
    },
    refuseNextSend: async (how, retryAfterSeconds) => {
      const channel = `D0FAST${channels++}`;
      const failure =
        how === 'rate_limited'
          ? { status: 429 as const, retryAfter: retryAfterSeconds }
          : how === 'blocked'
            ? { error: 'messages_tab_disabled' }
            : { error: 'channel_not_found' };
      fake.failNext('chat.postMessage', failure, { channel });
      return { platform: 'slack', tenant: TEAM, channel, kind: 'dm', user: 'U2147483697' };
    },
    close: async () => {
      idle.disconnect();
      await fake.close();
    },
  };
});
