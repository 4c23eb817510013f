/**
 * Fuzz every ingress of the real app with adversarial bodies under VALID signatures (so the input reaches parsing):
 * NUL, lone surrogates, RTL and zero-width characters, 1 MB strings, 10,000-deep JSON, wrong types, huge
 * attachment lists, duplicated ids and keys. Each request gets a 2xx or a clear 4xx in bounded time; afterwards the
 * process is healthy, nothing is half-stored, and a normal message in the same conversation is answered within
 * 10 s through the same platform. Seed and runs: FUZZ_SEED, FUZZ_RUNS (`npm run fuzz` for a long random run).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageCreate, person, snowflake, loadFixture } from '../fakes/discord/index.js';
import { signedHeaders } from '../fakes/slack/requests.js';
import { waitFor } from '../helpers/wait.js';
import {
  FUZZ_TIMEOUT_MS,
  PINNED,
  at,
  sentinel,
  bodyOf,
  formValue,
  fuzzParams,
  mutate,
  shapes,
  type Shape,
} from './arbitraries.js';
import {
  CANARY,
  SLACK_SECRET,
  TELEGRAM_SECRET,
  expectClearAnswer,
  expectHealthyAndDrained,
  request,
  startFuzzApp,
  type FuzzApp,
} from './harness.js';

const ANSWERED_WITHIN_MS = 10_000;
const JSON_HEADERS = { 'content-type': 'application/json' };
let f: FuzzApp;
let seq = 0;

beforeAll(async () => {
  f = await startFuzzApp();
}, 120_000);
afterAll(async () => {
  await f?.close();
});

/** Posts the shape's body (twice for a redelivery) and checks each answer. */
async function fuzzPost(
  path: string,
  base: Record<string, unknown>,
  s: Shape,
  headersFor: (body: string) => Record<string, string>,
) {
  const body = bodyOf(base, s);
  const times = s.kind === 'mutated' && s.twice ? 2 : 1;
  for (let i = 0; i < times; i++)
    expectClearAnswer(await request(f.app.url + path, body, headersFor(body)), `POST ${path}`);
}

/** Every run starts with the pinned values at `fields` (deep, huge, NUL, wrong types), then random shapes. */
const pinned = (base: unknown, fields: string[]): Shape[] =>
  fields.flatMap((field) => PINNED.map((v) => at(base, [[field, v]])));
const property = (examples: Shape[], run: (s: Shape) => Promise<void>) =>
  fc.assert(fc.asyncProperty(shapes, run), { ...fuzzParams, examples: examples.map((e) => [e] as [Shape]) });
const hello = `${CANARY} hello`;

describe('local channel: POST /local/messages', () => {
  const CONVERSATIONS = ['fuzz-a', 'fuzz-b'];
  it(
    'answers every fuzzed body with 2xx/4xx; afterwards the conversation still answers',
    async () => {
      const base = () => ({
        conversation: CONVERSATIONS[seq % 2]!,
        user: 'fuzzer',
        text: hello,
        id: `m${seq++ % 7}`,
        kind: 'dm',
      });
      await property(pinned(base(), ['text', 'user', 'id']), (s) =>
        fuzzPost('/local/messages', base(), s, () => JSON_HEADERS),
      );
      await expectHealthyAndDrained(f, 'local');
      for (const conversation of CONVERSATIONS) {
        const res = await request(
          f.app.url + '/local/messages',
          JSON.stringify({ conversation, user: 'fuzzer', text: 'normal after fuzz', wait: true }),
          JSON_HEADERS,
        );
        expect(res.status, res.text).toBe(200);
        expect(
          JSON.parse(res.text)
            .replies.map((r: { text: string }) => r.text)
            .join('\n'),
        ).toContain('normal after fuzz');
      }
    },
    FUZZ_TIMEOUT_MS,
  );
});

describe('slack: POST /slack/events and /slack/commands', () => {
  const TEAM = 'TFUZZ0001';
  // Slack paces sends per channel (about one a second): four DMs share the fuzz traffic, and all four must answer.
  const DMS = [1, 2, 3, 4].map((i) => ({ channel: `D0FUZZ00${i}`, user: `UFUZZ000${i}` }));
  const dmOf = () => DMS[seq % DMS.length]!;
  const ts = () => `${Math.floor(Date.now() / 1000)}.${String(++seq).padStart(6, '0')}`;
  const dmEvent = (text: string, dm = dmOf()) => {
    const t = ts();
    const { channel: DM, user: USER } = dm;
    return {
      token: 'x',
      team_id: TEAM,
      api_app_id: 'AFUZZ',
      type: 'event_callback',
      event_id: `EvFUZZ${seq % 9}`,
      event_time: 1_700_000_000,
      event: {
        type: 'message',
        channel: DM,
        channel_type: 'im',
        user: USER,
        text,
        ts: t,
        event_ts: t,
        files: [{ name: 'a.txt', mimetype: 'text/plain', size: 3, url_private: 'https://files.example/a' }],
      },
    };
  };
  const signed = (body: string) => signedHeaders(SLACK_SECRET, body);

  it(
    'answers every fuzzed event with 2xx/4xx; afterwards the DM still answers',
    async () => {
      await property(pinned(dmEvent(hello), ['event.text', 'event.files', 'event', 'event_id']), (s) =>
        fuzzPost('/slack/events', dmEvent(hello), s, signed),
      );
      await expectHealthyAndDrained(f, 'slack');
      await Promise.all(
        DMS.map(async (dm) => {
          const normal = JSON.stringify({
            ...dmEvent('normal after fuzz', dm),
            event_id: `EvNormal${dm.channel}${Date.now()}`,
          });
          expectClearAnswer(await request(f.app.url + '/slack/events', normal, signed(normal)), 'normal event');
          await waitFor(
            () => f.slack.posted(dm.channel).some((c) => String(c.body.text).includes('normal after fuzz')),
            `the Slack DM ${dm.channel} answered`,
            ANSWERED_WITHIN_MS,
          );
        }),
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'answers every fuzzed slash command with 2xx/4xx; afterwards a command still answers',
    async () => {
      const form = (fields: Record<string, unknown>) =>
        new URLSearchParams(Object.entries(fields).map(([k, v]): [string, string] => [k, formValue(v)])).toString();
      const base = () => ({
        token: 'x',
        team_id: TEAM,
        channel_id: DMS[0]!.channel,
        user_id: DMS[0]!.user,
        user_name: 'fuzzer',
        command: '/agent',
        text: `help ${CANARY}`,
        response_url: f.slack.responseUrl(`fuzz${seq}`),
        trigger_id: `trig.${seq++ % 5}`,
      });
      await fc.assert(
        fc.asyncProperty(shapes, async (s) => {
          // Form fields are flat: a mutated nested value arrives as its JSON text (deep sentinels expanded).
          const body = s.kind === 'raw' ? s.text : form(mutate(base(), s.ms));
          expectClearAnswer(
            await request(
              f.app.url + '/slack/commands',
              body,
              signedHeaders(SLACK_SECRET, body, { contentType: 'application/x-www-form-urlencoded' }),
            ),
            'POST /slack/commands',
          );
        }),
        { ...fuzzParams, examples: pinned(base(), ['text', 'command', 'user_id']).map((e) => [e] as [Shape]) },
      );
      const id = `normal${Date.now()}`;
      const body = form({ ...base(), response_url: f.slack.responseUrl(id), trigger_id: `trig.${id}` });
      expectClearAnswer(
        await request(
          f.app.url + '/slack/commands',
          body,
          signedHeaders(SLACK_SECRET, body, { contentType: 'application/x-www-form-urlencoded' }),
        ),
        'normal command',
      );
      await waitFor(() => f.slack.responses.some((r) => r.id === id), 'the slash command answered', ANSWERED_WITHIN_MS);
    },
    FUZZ_TIMEOUT_MS,
  );
});

describe('discord: POST /discord/interactions (Ed25519-signed)', () => {
  const dmChannel = snowflake();
  const author = person('fuzzer');
  const fixture = loadFixture<Record<string, unknown>>('interaction_application_command.json');
  const interaction = (name: string) => {
    const { member: _m, guild_id: _g, ...rest } = structuredClone(fixture);
    const id = seq++ % 6 ? snowflake() : '786008729715212338'; // some ids repeat: redeliveries
    return {
      ...rest,
      id,
      token: `tok-${id}`,
      user: author,
      channel_id: dmChannel,
      data: { type: 1, name, id: '771825006014889984', options: [{ type: 3, name: 'q', value: CANARY }] },
    };
  };

  it(
    'answers every fuzzed interaction with 2xx/4xx; afterwards the DM and commands still answer',
    async () => {
      const examples = [
        ...pinned(interaction('help'), ['data.options', 'data.options.0.value', 'user']),
        at(interaction('help'), [['data.options', sentinel('deep-options')]]),
      ];
      await property(examples, (s) =>
        fuzzPost('/discord/interactions', interaction('help'), s, (b) => f.signer.headers(b)),
      );
      await expectHealthyAndDrained(f, 'discord');
      const body = JSON.stringify(interaction('help'));
      const res = await request(f.app.url + '/discord/interactions', body, f.signer.headers(body));
      expect(res.status, res.text).toBe(200);
      expect(JSON.parse(res.text).type).toBe(5); // deferred: the answer follows as an edit
      f.discord.gateway.dispatch(
        'MESSAGE_CREATE',
        messageCreate({ guildId: null, channelId: dmChannel, author, content: 'normal after fuzz' }),
      );
      await waitFor(
        () => f.discord.rest.contents(dmChannel).some((c) => c.includes('normal after fuzz')),
        'the Discord DM answered',
        ANSWERED_WITHIN_MS,
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});

describe('telegram: POST /telegram/webhook (secret token)', () => {
  const CHAT = 424_242_424;
  let updateId = 9_000_000;
  const update = (text: string) => ({
    update_id: updateId++ - (seq++ % 4 === 0 ? 1 : 0), // some update ids repeat: redeliveries
    message: {
      message_id: updateId,
      date: 1_700_000_000,
      text,
      chat: { id: CHAT, type: 'private', first_name: 'Fuzz' },
      from: { id: CHAT, is_bot: false, first_name: 'Fuzz' },
      entities: [{ type: 'bold', offset: 0, length: 2 }],
      photo: [{ file_id: 'p1', file_size: 10 }],
    },
  });
  const headers = () => ({ ...JSON_HEADERS, 'x-telegram-bot-api-secret-token': TELEGRAM_SECRET });

  it(
    'answers every fuzzed update with 2xx/4xx; afterwards the chat still answers',
    async () => {
      await property(pinned(update(hello), ['message.text', 'message.entities', 'message.photo', 'message']), (s) =>
        fuzzPost('/telegram/webhook', update(hello), s, headers),
      );
      await expectHealthyAndDrained(f, 'telegram');
      const body = JSON.stringify(update('normal after fuzz'));
      expectClearAnswer(await request(f.app.url + '/telegram/webhook', body, headers()), 'normal update');
      await waitFor(
        () => f.telegram.sentTo(CHAT).some((m) => m.text.includes('normal after fuzz')),
        'the Telegram chat answered',
        ANSWERED_WITHIN_MS,
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});

describe('agent API', () => {
  it(
    'answers every fuzzed request with 2xx/4xx; afterwards a run on the thread still answers',
    async () => {
      const api = (path: string) => `${f.app.config.API_PREFIX}${path}`;
      const headers = () => ({ ...JSON_HEADERS, 'x-api-key': f.apiKey });
      const created = await request(f.app.url + api('/threads'), '{}', headers());
      const thread = JSON.parse(created.text).thread_id as string;
      const input = { messages: [{ role: 'user', content: hello }] };
      const ops: Array<[string, string, Record<string, unknown>]> = [
        ['POST', '/threads', { thread_id: thread, if_exists: 'do_nothing', metadata: { a: CANARY } }],
        [
          'POST',
          `/threads/${thread}/runs`,
          { assistant_id: 'agent', input, metadata: { a: 1 }, multitask_strategy: 'enqueue' },
        ],
        ['POST', '/runs', { assistant_id: 'agent', input, metadata: { a: 1 } }],
        ['PATCH', `/threads/${thread}`, { metadata: { a: 1 } }],
        ['POST', '/threads/search', { metadata: { a: 1 }, limit: 10 }],
        ['PUT', '/store/items', { namespace: ['fuzz'], key: 'k', value: { a: 1 } }],
        ['POST', '/assistants/search', { metadata: {}, limit: 10 }],
      ];
      await fc.assert(
        fc.asyncProperty(fc.nat(ops.length - 1), shapes, async (i, s) => {
          const [method, path, base] = ops[i]!;
          const body = bodyOf(base, s);
          expectClearAnswer(await request(f.app.url + api(path), body, headers(), method), `${method} ${path}`);
        }),
        {
          ...fuzzParams,
          examples: [0, 1, 5].flatMap((i) =>
            pinned(
              ops[i]![2],
              ['metadata', 'input', 'value'].filter((p) => p in ops[i]![2]),
            ).map((e) => [i, e] as [number, Shape]),
          ),
        },
      );
      await expectHealthyAndDrained(f, 'api');
      const res = await request(
        f.app.url + api(`/threads/${thread}/runs/wait`),
        JSON.stringify({
          assistant_id: 'agent',
          input: { messages: [{ role: 'user', content: 'normal after fuzz' }] },
          multitask_strategy: 'enqueue',
        }),
        headers(),
      );
      expect(res.status, res.text).toBe(200);
      expect(res.text).toContain('normal after fuzz');
    },
    FUZZ_TIMEOUT_MS,
  );
});
