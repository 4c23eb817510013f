/**
 * The Slack adapter passes the shared adapter contract on the REAL pipeline (gateway + worker in-process, fresh
 * database and Redis prefix), with the real WebClient talking to the loopback fake Slack.
 *
 * Two shapes of conversation, each a full run of the contract:
 * - `dm`: a direct message (`message` event, `channel_type: im`) from the shared fixture. A DM channel is between the
 *   bot and one person, so each harness conversation is its own person's DM channel.
 * - `thread`: a channel conversation. Its first message mentions the bot at top level and is delivered the way Slack
 *   delivers a mention, twice (`app_mention` and `message`, two event_ids, one ts); the bot answers in the thread under
 *   it, and the conversation's later messages are follow-ups in that thread without a mention. `sent` counts only
 *   posts in that thread, so a reply in the wrong place is a missing reply.
 *
 * A harness id names one Slack message: delivering the same id again resends the same envelope (same ts, same
 * event_id) with `X-Slack-Retry-Num`, which is what a Slack retry is. The fake echoes every post back as the bot's
 * own `message` event, as Slack does, so each test also proves the bot does not answer itself.
 */
import { adapterContract, type ContractHarness, type ContractMessage } from '../../contract/adapter-contract.js';
import { FakeSlack } from '../../fakes/slack/fake-slack.js';
import {
  BOT,
  appMention,
  channelMessage,
  dmMessage,
  envelope,
  nextSlackTs,
  postSigned,
  slackEscape,
} from '../../fakes/slack/requests.js';
import { startTestApp } from '../../helpers/app.js';

const SECRET = 'contract-signing-secret-0123';
const TOKEN = 'xoxb-contract-token';

type Shape = 'dm' | 'thread';

async function slackHarness(shape: Shape): Promise<ContractHarness> {
  const fake = await new FakeSlack({ botUserId: BOT }).start();
  const app = await startTestApp({
    env: { SLACK_BOT_TOKEN: TOKEN, SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: fake.apiUrl, SLACK_BOT_USER_ID: BOT },
  });
  const eventsUrl = `${app.url}/slack/events`;
  fake.echoTo = { url: eventsUrl, signingSecret: SECRET };

  /** Harness id -> the envelopes Slack sent for that message (two for a channel mention). */
  const deliveries = new Map<string, Record<string, unknown>[]>();
  /** thread shape: conversation -> ts of the mention that opened its thread. */
  const roots = new Map<string, string>();
  const channelOf = (conversation: string) => `${shape === 'dm' ? 'D' : 'C'}${conversation.toUpperCase()}`;

  const envelopesFor = (m: ContractMessage): Record<string, unknown>[] => {
    const ts = nextSlackTs();
    const channel = channelOf(m.conversation);
    const text = slackEscape(m.text);
    if (shape === 'dm') {
      const user = `${m.user}${m.conversation.toUpperCase()}`;
      return [envelope(dmMessage({ channel, user, text, ts }), `Ev${m.id}`)];
    }
    const root = roots.get(m.conversation);
    if (root) return [envelope(channelMessage({ channel, user: m.user, text, ts, thread_ts: root }), `Ev${m.id}`)];
    roots.set(m.conversation, ts);
    const mentioned = `<@${BOT}> ${text}`;
    return [
      envelope(appMention({ channel, user: m.user, text: mentioned, ts }), `Ev${m.id}M`),
      envelope(channelMessage({ channel, user: m.user, text: mentioned, ts }), `Ev${m.id}`),
    ];
  };

  const send = async (envelopes: Record<string, unknown>[], opts: { secret?: string; retryNum?: number } = {}) => {
    let status = 200;
    for (const e of envelopes) {
      const r = await postSigned(eventsUrl, opts.secret ?? SECRET, e, { retryNum: opts.retryNum });
      if (r.status !== 200 && status === 200) status = r.status;
    }
    return status;
  };

  return {
    platform: 'slack',
    kind: shape === 'dm' ? 'dm' : 'group',
    adapter: app.adapters.get('slack')!,
    async deliver(m) {
      const seen = deliveries.get(m.id);
      if (seen) return send(seen, { retryNum: 1 });
      const envelopes = envelopesFor(m);
      deliveries.set(m.id, envelopes);
      return send(envelopes);
    },
    deliverForged: async (m) => send(envelopesFor(m), { secret: 'not-the-signing-secret' }),
    deliverMalformed: async () => (await postSigned(eventsUrl, SECRET, '{"type":"event_callback","event":')).status,
    async sent(conversation) {
      const thread = shape === 'thread' ? roots.get(conversation) : undefined;
      if (shape === 'thread' && !thread) return [];
      return fake.posted(channelOf(conversation), thread).map((c) => String(c.body.text));
    },
    async close() {
      await app.close();
      await fake.close();
    },
  };
}

adapterContract('slack (DMs)', () => slackHarness('dm'));
adapterContract('slack (channel mention, then its thread)', () => slackHarness('thread'));
