/**
 * Discord runs the fast tier of the adapter contract: recorded gateway messages through discord.js (against the
 * fake gateway, no lease, so no Redis) and the adapter's gate, recorded interactions through its parser; render;
 * error mapping through the REST client.
 */
import { Options } from 'discord.js';
import { pino } from 'pino';
import type { IngressSink } from '../../../src/core/adapter.js';
import { DiscordGateway } from '../../../adapters/discord/gateway.js';
import { createDiscordAdapter } from '../../../adapters/discord/index.js';
import { MessageIngest } from '../../../adapters/discord/ingress.js';
import { toInvocation } from '../../../adapters/discord/parse.js';
import { InteractionType, interactionSchema } from '../../../adapters/discord/schema.js';
import { fastContract, memoryThreads, type MemorySink } from '../../contract/fast-contract.js';
import { FakeDiscord, IDS, createSigner } from '../../fakes/discord/index.js';
import { waitFor } from './helpers.js';

let channels = 700_000_000_000_000_000n;

fastContract('discord', async () => {
  const fake = await new FakeDiscord().start();
  const log = pino({ level: 'silent' });
  const adapter = createDiscordAdapter({
    token: fake.token,
    applicationId: IDS.app,
    publicKey: createSigner().publicKeyHex,
    apiUrl: fake.apiUrl,
    gateway: false,
    maxRateLimitWaitMs: 100,
    log,
  });
  // The gateway side of the adapter without its lease: each payload goes to the sink of the parse that sent it.
  let current: MemorySink | undefined;
  const forward: IngressSink = {
    submit: (e) => current!.submit(e),
    command: (i) => current!.command(i),
    claim: (id) => current!.claim(id),
    log,
  };
  const ingest = new MessageIngest(forward, { requireMention: true, allowBots: false, tracker: memoryThreads() }, log);
  const handled = new Set<string>();
  const gateway = new DiscordGateway({
    token: fake.token,
    apiUrl: fake.apiUrl,
    log,
    retryBaseMs: 100,
    retryMaxMs: 400,
    // No message cache: discord.js drops a message it has cached, and the redelivery check must reach the adapter.
    clientOptions: { makeCache: Options.cacheWithLimits({ ...Options.DefaultMakeCacheSettings, MessageManager: 0 }) },
    onMessage: async (message, botId) => {
      await ingest.handle(message, botId);
      handled.add(message.id);
    },
  });
  gateway.start();
  await waitFor(() => gateway.health().state === 'up', 'gateway up');

  return {
    adapter,
    fixtures: {
      dir: 'discord',
      expect: {
        // The documented sample: a guild message that does not mention the bot is not for it.
        'gateway_message_create.json': { kind: 'none' },
        'gateway_message_create_dm.json': {
          kind: 'event',
          conversation: 'dm',
          text: 'can you summarise this thread for me?',
        },
        'gateway_message_create_guild_mention.json': {
          kind: 'event',
          conversation: 'group',
          text: 'what is on the agenda today?',
          mentionsBot: true,
        },
        'interaction_application_command.json': { kind: 'command', name: 'cardsearch' },
        'interaction_ping.json': { kind: 'none' },
      },
    },
    parse: async (file, raw, sink) => {
      const from = sink.mark();
      const json = JSON.parse(raw.toString('utf8')) as { d?: { id: string } };
      if (file.startsWith('gateway_')) {
        const d = json.d!;
        handled.delete(d.id);
        current = sink;
        fake.gateway.dispatch('MESSAGE_CREATE', d);
        await waitFor(() => handled.has(d.id), `${file} handled`);
      } else {
        const interaction = interactionSchema.parse(json);
        const isCommand = interaction.type === InteractionType.ApplicationCommand;
        const invocation = isCommand ? toInvocation(interaction) : undefined;
        if (invocation) await sink.command(invocation);
      }
      return sink.outcome(from);
    },
    refuseNextSend: async (how, retryAfterSeconds) => {
      const channel = String(channels++);
      const path = new RegExp(`/channels/${channel}/messages$`);
      if (how === 'rate_limited') fake.rest.rateLimitOnce(path, retryAfterSeconds);
      else if (how === 'blocked') {
        const body = { code: 50007, message: 'Cannot send messages to this user' };
        fake.rest.script({ method: 'POST', path, status: 403, body });
      } else fake.rest.script({ method: 'POST', path, status: 404, body: { code: 10003, message: 'Unknown Channel' } });
      return { platform: 'discord', tenant: 'dm', channel, kind: 'dm', user: IDS.user };
    },
    close: async () => {
      await gateway.stop();
      await fake.stop();
    },
  };
});
