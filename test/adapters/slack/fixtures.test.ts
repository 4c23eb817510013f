/** The recorded Slack variants (test/fixtures/slack) through the adapter's parser: what each becomes for the pipeline. */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { parseEventCallback, type ParseContext } from '../../../adapters/slack/parse.js';
import { ThreadTracker } from '../../../adapters/kit/thread-tracker.js';
import { threadKey as threadRedisKey } from '../../../src/queue/keys.js';
import { BOT, fixtureJson } from '../../fakes/slack/requests.js';
import { cleanRedisPrefix, REDIS_URL, uniqueName } from '../../helpers/services.js';

const prefix = uniqueName('slackfix');
const redis = new Redis(REDIS_URL);
afterAll(async () => {
  redis.disconnect();
  await cleanRedisPrefix(prefix);
});
const ctx: ParseContext = {
  botUserId: BOT,
  allowBots: false,
  edits: 'ignore',
  replyInThread: true,
  threads: new ThreadTracker(redis, (t) => threadRedisKey(prefix, t)),
};
const parse = (name: string) => parseEventCallback(fixtureJson(name) as never, ctx);

describe('recorded Slack payloads', () => {
  it('a channel mention opens a thread under it, and a reply in that thread is answered without a mention', async () => {
    const mention = await parse('event_app_mention_channel.json');
    expect(mention).toMatchObject({
      kind: 'event',
      event: {
        id: 'slack:T123ABC456:C0LAN2Q65:1515449522.000016',
        mentionsBot: true,
        text: 'what is on the agenda today?',
        conversation: {
          platform: 'slack',
          tenant: 'T123ABC456',
          channel: 'C0LAN2Q65',
          kind: 'group',
          thread: '1515449522.000016',
        },
      },
    });
    const reply = await parse('event_message_thread_reply.json');
    expect(reply).toMatchObject({
      kind: 'event',
      event: {
        mentionsBot: false,
        text: 'and the follow-up in the thread',
        replyTo: '1515449522.000016',
        conversation: { kind: 'group', channel: 'C0LAN2Q65', thread: '1515449522.000016' },
      },
    });
  });

  it('a DM with a file carries the file as an attachment', async () => {
    const out = await parse('event_message_file_share.json');
    expect(out).toMatchObject({
      kind: 'event',
      event: {
        text: 'here is the report',
        conversation: { kind: 'dm', user: 'U2147483697', channel: 'D024BE91L' },
        attachments: [
          {
            name: 'report.pdf',
            mimeType: 'application/pdf',
            size: 48213,
            url: 'https://files.slack.com/files-pri/T123ABC456-F0S43PZDF/report.pdf',
          },
        ],
      },
    });
  });
});
