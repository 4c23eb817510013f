/**
 * Discord passes the shared adapter contract through the real pipeline: messages enter over the fake's gateway
 * websocket (real discord.js client, Redis lease), replies leave through REST to the fake, and the signature checks
 * run on the app's real `POST /discord/interactions`. Run twice: as DMs, and as guild mentions in fresh channels.
 */
import { adapterContract, type ContractHarness, type ContractMessage } from '../../contract/adapter-contract.js';
import {
  channelCreate,
  createSigner,
  mentioning,
  messageCreate,
  person,
  snowflake,
} from '../../fakes/discord/index.js';
import { commandInteraction, postInteraction, startDiscordApp, waitFor } from './pipeline-helpers.js';

type Kind = 'dm' | 'guild';

async function harness(kind: Kind): Promise<ContractHarness> {
  const { fake, signer, app, adapter } = await startDiscordApp();
  /** Contract conversation name -> Discord channel id and the author writing there. */
  const conversations = new Map<string, { channelId: string; author: Record<string, unknown> }>();
  /** Contract delivery id -> message snowflake, so a redelivery repeats the same Discord message id. */
  const messageIds = new Map<string, string>();

  const conversation = (name: string, user: string) => {
    let c = conversations.get(name);
    if (!c) {
      c = { channelId: snowflake(), author: person(user) };
      if (kind === 'guild') fake.gateway.dispatch('CHANNEL_CREATE', channelCreate(c.channelId));
      conversations.set(name, c);
    }
    return c;
  };

  const interactionIn = (m: ContractMessage) => {
    const { channelId } = conversation(m.conversation, m.user);
    return commandInteraction('help', { channel_id: channelId });
  };

  return {
    platform: 'discord',
    kind: kind === 'dm' ? 'dm' : 'group',
    adapter,
    async deliver(m) {
      await waitFor(() => adapter.health().state === 'up', 'discord gateway up before delivering');
      const { channelId, author } = conversation(m.conversation, m.user);
      let id = messageIds.get(m.id);
      if (!id) messageIds.set(m.id, (id = snowflake()));
      const d =
        kind === 'dm'
          ? messageCreate({ id, guildId: null, channelId, author, content: m.text })
          : mentioning({ id, channelId, author, content: m.text });
      fake.gateway.dispatch('MESSAGE_CREATE', d);
      return 200;
    },
    // Signed with a key that is not the application's: Discord's own endpoint probe does exactly this.
    deliverForged: async (m) => (await postInteraction(app.url, createSigner(), interactionIn(m))).status,
    deliverMalformed: async () => {
      const body = '{"type": 2, "id": ';
      return (await postInteraction(app.url, signer, body, signer.headers(body))).status;
    },
    sent: async (name) => {
      const c = conversations.get(name);
      return c ? fake.rest.contents(c.channelId) : [];
    },
    async close() {
      await app.close();
      await fake.stop();
    },
  };
}

adapterContract('discord (DMs over the gateway)', () => harness('dm'));
adapterContract('discord (guild mentions over the gateway)', () => harness('guild'));
