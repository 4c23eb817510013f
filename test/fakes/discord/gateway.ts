/**
 * The gateway half of the fake Discord, a `ws` server speaking plain JSON (discord.js asks for
 * `?v=10&encoding=json` and, without the optional `zlib-sync` package, no compression). HELLO (op 10) ->
 * IDENTIFY (op 2) -> READY + GUILD_CREATE; heartbeats (op 1) are ACKed (op 11); RESUME (op 6) replays what the
 * session missed, then RESUMED. Dispatches go to every live session and are buffered per session while it is
 * disconnected, like Discord does for a resumable session.
 *
 * Sharding as Discord does it: IDENTIFY may carry `shard: [id, count]` (default [0, 1]); a guild's events go only to
 * the session of shard `(guild_id >> 22) % count`, DMs only to shard 0, and READY / GUILD_CREATE list the guilds of
 * the shard. An id outside the count closes with 4010; fewer shards than `requiredShards` closes with 4011.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { BOT_USER, IDS, guildCreate, shardOf } from './payloads.js';

interface Session {
  id: string;
  seq: number;
  events: { op: 0; s: number; t: string; d: unknown }[];
  socket: WebSocket | undefined;
  /** false once closed by the client or invalidated: cannot be resumed any more. */
  resumable: boolean;
  shard: [number, number];
}

export interface GatewayState {
  token: string;
  url(): string;
  /** The bot user and application this token belongs to; default BOT_USER and IDS.app. */
  bot?: Record<string, unknown>;
  applicationId?: string;
}

export class FakeDiscordGateway {
  readonly wss = new WebSocketServer({ noServer: true });
  readonly sessions = new Map<string, Session>();
  identifies: { intents: number; at: number; shard: [number, number] }[] = [];
  /** What `GET /gateway/bot` recommends. */
  recommendedShards = 1;
  maxConcurrency = 1;
  /** IDENTIFY with fewer shards than this is closed with 4011 (sharding required). */
  requiredShards = 1;
  /** Guilds the bot is in (GUILD_CREATE data), each sent to the shard it belongs to. */
  readonly guilds: Record<string, any>[] = [guildCreate()];
  resumes = 0;
  connections = 0;
  /** Highest number of simultaneously identified (live) sessions ever seen. */
  maxLiveSessions = 0;
  /** Per shard id: the highest number of live sessions of that shard at once (more than 1: a shard held twice). */
  readonly maxLivePerShard = new Map<number, number>();
  heartbeatIntervalMs = 41_250;
  /** IDENTIFY with any of these intent bits is closed with 4014, like an app without the privileged intent. */
  disallowedIntents = 0;
  /** Guild channels and threads seen in dispatches (and the fixture guild's), so the bot's own messages can be echoed. */
  private readonly guildChannels = new Map<string, { guildId: string; type: number }>();

  constructor(private readonly state: GatewayState) {
    this.wss.on('connection', (ws) => this.onConnection(ws));
    const guild = this.guilds[0]!;
    for (const c of [...guild.channels, ...guild.threads])
      this.guildChannels.set(c.id, { guildId: guild.id, type: c.type });
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit('connection', ws, req));
  }

  liveSessions(): Session[] {
    return [...this.sessions.values()].filter((s) => s.socket?.readyState === WebSocket.OPEN);
  }

  /** Live sessions identified as shard `id` (of any count). */
  liveSessionsOf(id: number): Session[] {
    return this.liveSessions().filter((s) => s.shard[0] === id);
  }

  /** The bot joins a guild (GUILD_CREATE data, e.g. from `shardGuild`): shards identifying later receive it. */
  addGuild(guild: Record<string, any>): void {
    this.guilds.push(guild);
    for (const c of guild.channels ?? []) this.guildChannels.set(c.id, { guildId: guild.id, type: c.type });
  }

  private countLive(shard: number): void {
    this.maxLiveSessions = Math.max(this.maxLiveSessions, this.liveSessions().length);
    const now = this.liveSessionsOf(shard).length;
    this.maxLivePerShard.set(shard, Math.max(this.maxLivePerShard.get(shard) ?? 0, now));
  }

  /** Does a dispatch about `guildId` (undefined: a DM) go to this session? */
  private routes(s: Session, guildId: unknown): boolean {
    const [id, count] = s.shard;
    if (typeof guildId !== 'string') return id === 0;
    return shardOf(guildId, count) === id;
  }

  /** Send a dispatch to every live session; resumable disconnected sessions get it on RESUME. */
  dispatch(t: string, d: unknown): void {
    this.remember(t, d as Record<string, any>);
    for (const s of this.sessions.values()) {
      if (!s.resumable || !this.routes(s, (d as Record<string, unknown> | undefined)?.guild_id)) continue;
      const event = { op: 0 as const, s: ++s.seq, t, d };
      s.events.push(event);
      if (s.socket?.readyState === WebSocket.OPEN) s.socket.send(JSON.stringify(event));
    }
  }

  /**
   * The MESSAGE_CREATE Discord sends for a message the bot itself created through REST: every bot sees its own
   * messages come back over the gateway (a reply loop waits there if it does not drop them).
   */
  ownMessage(channelId: string, message: Record<string, unknown>): Record<string, unknown> {
    const known = this.guildChannels.get(channelId);
    if (!known) return { ...message, channel_type: 1 }; // not a guild channel we know of: a DM
    return {
      ...message,
      guild_id: known.guildId,
      channel_type: known.type,
      member: {
        roles: [],
        joined_at: '2024-01-01T00:00:00.000000+00:00',
        nick: null,
        deaf: false,
        mute: false,
        flags: 0,
      },
    };
  }

  private remember(t: string, d: Record<string, any> | undefined): void {
    if (!d) return;
    if ((t === 'CHANNEL_CREATE' || t === 'THREAD_CREATE') && d.guild_id)
      this.guildChannels.set(d.id, { guildId: d.guild_id, type: d.type });
    if (t === 'MESSAGE_CREATE' && d.guild_id && !this.guildChannels.has(d.channel_id)) {
      this.guildChannels.set(d.channel_id, {
        guildId: d.guild_id,
        type: typeof d.channel_type === 'number' ? d.channel_type : 0,
      });
    }
  }

  /** Drop every live connection with a resumable close code; sessions stay resumable. */
  dropConnections(code = 4000): void {
    for (const s of this.liveSessions()) s.socket!.close(code, 'fake drop');
  }

  /** Close every live connection with a code after which Discord does not allow resuming (e.g. 4014, 4004). */
  closeSessions(code: number): void {
    for (const s of this.liveSessions()) {
      s.resumable = false;
      s.socket!.close(code, 'fake close');
    }
  }

  close(): void {
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
  }

  private onConnection(ws: WebSocket): void {
    this.connections++;
    let session: Session | undefined;
    const send = (p: unknown) => ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify(p));
    send({ op: 10, d: { heartbeat_interval: this.heartbeatIntervalMs } });

    ws.on('message', (raw) => {
      let p: { op: number; d: any };
      try {
        p = JSON.parse(raw.toString());
      } catch {
        return ws.close(4002, 'decode error');
      }
      switch (p.op) {
        case 1:
          return send({ op: 11 });
        case 2: {
          if (p.d?.token !== this.state.token) return ws.close(4004, 'Authentication failed.');
          const shard: [number, number] = Array.isArray(p.d.shard) ? [p.d.shard[0], p.d.shard[1]] : [0, 1];
          this.identifies.push({ intents: p.d.intents, at: Date.now(), shard });
          if (this.disallowedIntents & p.d.intents) return ws.close(4014, 'Disallowed intent(s).');
          if (!(shard[1] >= 1 && shard[0] >= 0 && shard[0] < shard[1])) return ws.close(4010, 'Invalid shard.');
          if (shard[1] < this.requiredShards) return ws.close(4011, 'Sharding required.');
          session = { id: randomUUID(), seq: 0, events: [], socket: ws, resumable: true, shard };
          const mine = this.guilds.filter((g) => shardOf(g.id, shard[1]) === shard[0]);
          this.sessions.set(session.id, session);
          this.countLive(session.shard[0]);
          const ready = {
            v: 10,
            user: this.state.bot ?? BOT_USER,
            guilds: mine.map((g) => ({ id: g.id, unavailable: true })),
            session_id: session.id,
            resume_gateway_url: this.state.url(),
            shard,
            application: { id: this.state.applicationId ?? IDS.app, flags: 0 },
          };
          for (const [t, d] of [['READY', ready], ...mine.map((g) => ['GUILD_CREATE', g] as const)] as const) {
            const event = { op: 0 as const, s: ++session.seq, t, d };
            session.events.push(event);
            send(event);
          }
          return;
        }
        case 6: {
          const s = this.sessions.get(p.d?.session_id);
          if (!s?.resumable || p.d?.token !== this.state.token) return send({ op: 9, d: false });
          this.resumes++;
          session = s;
          s.socket = ws;
          this.countLive(session.shard[0]);
          for (const e of s.events) if (e.s > (p.d.seq ?? 0)) send(e);
          const resumed = { op: 0 as const, s: ++s.seq, t: 'RESUMED', d: {} };
          s.events.push(resumed);
          return send(resumed);
        }
        default:
          return; // presence updates etc.: ignored
      }
    });
    ws.on('close', (code) => {
      if (!session || session.socket !== ws) return;
      session.socket = undefined;
      // A client that closes normally ends its session (Discord invalidates it); a drop keeps it resumable.
      if (code === 1000 || code === 1001) session.resumable = false;
    });
  }
}
