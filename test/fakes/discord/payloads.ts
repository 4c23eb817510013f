/**
 * Ids and payload builders for the fake Discord, starting from the documented fixtures in
 * test/fixtures/discord (the fixture's guild, channel and author are reused as the main cast).
 */
import { readFileSync } from 'node:fs';

const FIXTURES = new URL('../../fixtures/discord/', import.meta.url);

export function loadFixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as T;
}

const messageFixture = loadFixture<{ d: Record<string, unknown> }>('gateway_message_create.json');

export const IDS = {
  app: '1100000000000000000', // the fixtures' application_id; a bot user's id equals its application's
  bot: '1100000000000000000',
  guild: '290926798626357999',
  channel: '290926798999357250',
  otherChannel: '290926798999357251',
  threadMentioned: '300000000000000001', // someone else's thread; the bot gets mentioned there in tests
  threadByBot: '300000000000000002', // a thread the bot started
  threadOther: '300000000000000003', // a thread the bot never joined
  dmChannel: '400000000000000001',
  user: '53908099506183680', // fixture author "Mason"
  otherBot: '500000000000000001',
} as const;

export const BOT_USER = {
  id: IDS.bot,
  username: 'gatewaybot',
  discriminator: '0',
  global_name: 'Gateway Bot',
  avatar: null,
  bot: true,
};
export const USER = { id: IDS.user, username: 'Mason', discriminator: '9999', global_name: 'Mason', avatar: null };
export const OTHER_BOT = {
  id: IDS.otherBot,
  username: 'otherbot',
  discriminator: '0',
  global_name: null,
  avatar: null,
  bot: true,
};

let seq = 0n;
/** Fresh snowflake-shaped ids, increasing. */
export function snowflake(): string {
  seq += 1n;
  return (1300000000000000000n + BigInt(Date.now() % 1_000_000) * 1000n + seq).toString();
}

function thread(id: string, ownerId: string, name: string, parentId: string = IDS.channel) {
  return {
    id,
    type: 11, // public thread
    guild_id: IDS.guild,
    parent_id: parentId,
    owner_id: ownerId,
    name,
    last_message_id: null,
    message_count: 0,
    member_count: 2,
    rate_limit_per_user: 0,
    flags: 0,
    thread_metadata: {
      archived: false,
      auto_archive_duration: 1440,
      archive_timestamp: '2024-01-01T00:00:00.000000+00:00',
      locked: false,
    },
  };
}

/** The shard Discord routes a guild's events to: `(guild_id >> 22) % shard_count`. */
export function shardOf(guildId: string, count: number): number {
  return Number((BigInt(guildId) >> 22n) % BigInt(count));
}

/**
 * GUILD_CREATE data for a fresh guild (one text channel, `channelId`) whose events land on `shard` of `count`; hand
 * it to `FakeDiscordGateway.addGuild` before the shard identifies.
 */
export function shardGuild(shard: number, count: number): { guildId: string; channelId: string; guild: any } {
  const base = BigInt(1 + Math.floor(Math.random() * 1e9));
  const guildId = (((base * BigInt(count) + BigInt(shard)) << 22n) + 7n).toString();
  const channelId = snowflake();
  const guild = structuredClone(guildCreate()) as any;
  guild.id = guildId;
  guild.name = `Shard ${shard} Guild`;
  guild.roles[0].id = guildId;
  guild.channels = [{ ...guild.channels[0], id: channelId, guild_id: guildId }];
  guild.threads = [];
  return { guildId, channelId, guild };
}

/** GUILD_CREATE data: what the client caches so guild messages can be resolved to channels and threads. */
export function guildCreate() {
  return {
    id: IDS.guild,
    name: 'Fixture Guild',
    icon: null,
    owner_id: IDS.user,
    unavailable: false,
    large: false,
    member_count: 3,
    joined_at: '2024-01-01T00:00:00.000000+00:00',
    features: [],
    premium_tier: 0,
    verification_level: 0,
    default_message_notifications: 0,
    explicit_content_filter: 0,
    mfa_level: 0,
    nsfw_level: 0,
    system_channel_flags: 0,
    preferred_locale: 'en-US',
    roles: [
      {
        id: IDS.guild,
        name: '@everyone',
        permissions: '0',
        position: 0,
        color: 0,
        hoist: false,
        managed: false,
        mentionable: false,
        flags: 0,
      },
    ],
    emojis: [],
    stickers: [],
    members: [],
    presences: [],
    voice_states: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
    channels: [
      {
        id: IDS.channel,
        type: 0,
        guild_id: IDS.guild,
        name: 'general',
        position: 0,
        permission_overwrites: [],
        parent_id: null,
        nsfw: false,
        topic: null,
      },
      {
        id: IDS.otherChannel,
        type: 0,
        guild_id: IDS.guild,
        name: 'random',
        position: 1,
        permission_overwrites: [],
        parent_id: null,
        nsfw: false,
        topic: null,
      },
    ],
    threads: [
      thread(IDS.threadMentioned, IDS.user, 'question'),
      thread(IDS.threadByBot, IDS.bot, 'bot thread'),
      thread(IDS.threadOther, IDS.user, 'chatter'),
    ],
  };
}

export interface MessageOptions {
  id?: string;
  content?: string;
  channelId?: string;
  /** null: a DM (no guild_id). */
  guildId?: string | null;
  author?: Record<string, unknown>;
  mentions?: Record<string, unknown>[];
  mentionEveryone?: boolean;
  attachments?: Record<string, unknown>[];
  referenceId?: string;
  type?: number;
  webhookId?: string;
  /** Leave out `channel_type`, like the documented fixture and older gateway payloads. Default: include it. */
  omitChannelType?: boolean;
}

const threadIds = new Set<string>([IDS.threadMentioned, IDS.threadByBot, IDS.threadOther]);

/** CHANNEL_CREATE data for a new text channel in the fixture guild (dispatch it before messages in that channel). */
export function channelCreate(id: string = snowflake(), name = `chan-${id.slice(-6)}`): Record<string, unknown> {
  return {
    id,
    type: 0,
    guild_id: IDS.guild,
    name,
    position: 10,
    permission_overwrites: [],
    parent_id: null,
    nsfw: false,
    topic: null,
    last_message_id: null,
    rate_limit_per_user: 0,
  };
}

/**
 * THREAD_CREATE data for a new public thread (`newly_created`, like Discord sends to the thread's members). Messages
 * built afterwards with `channelId: id` carry `channel_type` 11.
 */
export function threadCreate(
  o: { id?: string; ownerId?: string; parentId?: string; name?: string } = {},
): Record<string, unknown> {
  const id = o.id ?? snowflake();
  threadIds.add(id);
  return {
    ...thread(id, o.ownerId ?? IDS.user, o.name ?? `thread-${id.slice(-6)}`, o.parentId ?? IDS.channel),
    newly_created: true,
  };
}

/** A human author with a fresh id (a separate DM conversation per author, since a DM session is keyed by user). */
export function person(username: string, id: string = snowflake()): Record<string, unknown> {
  return { id, username, discriminator: '0', global_name: null, avatar: null };
}

/** MESSAGE_CREATE data built from the fixture, with variants. */
export function messageCreate(o: MessageOptions = {}): Record<string, unknown> {
  const d: Record<string, unknown> = structuredClone(messageFixture.d);
  d.id = o.id ?? snowflake();
  d.timestamp = new Date().toISOString();
  if (o.content !== undefined) d.content = o.content;
  if (o.channelId) d.channel_id = o.channelId;
  if (o.guildId === null) delete d.guild_id;
  else if (o.guildId) d.guild_id = o.guildId;
  if (o.author) d.author = o.author;
  if (o.mentions) d.mentions = o.mentions;
  if (o.mentionEveryone !== undefined) d.mention_everyone = o.mentionEveryone;
  if (o.attachments) d.attachments = o.attachments;
  if (o.type !== undefined) d.type = o.type;
  if (o.webhookId) d.webhook_id = o.webhookId;
  if (o.referenceId) {
    d.type = 19;
    d.message_reference = { message_id: o.referenceId, channel_id: d.channel_id, guild_id: d.guild_id };
  }
  if (!o.omitChannelType) d.channel_type = !d.guild_id ? 1 : threadIds.has(String(d.channel_id)) ? 11 : 0;
  if (d.guild_id)
    d.member = {
      roles: [],
      joined_at: '2024-01-01T00:00:00.000000+00:00',
      nick: null,
      deaf: false,
      mute: false,
      flags: 0,
    };
  return d;
}

/** The same message the bot would see when mentioned: `<@bot>` in content and the bot in `mentions`. */
export function mentioning(o: MessageOptions = {}): Record<string, unknown> {
  return messageCreate({
    ...o,
    content: `<@${IDS.bot}> ${o.content ?? 'hello'}`,
    mentions: [BOT_USER, ...(o.mentions ?? [])],
  });
}
