/**
 * Socket Mode: Slack pushes the same events, slash commands and interactivity over a WebSocket instead of HTTP (no
 * public URL needed; handy for development and firewalled installs). Each envelope goes through the same dispatcher
 * as the HTTP Request URL (ingress.ts) and is acknowledged with what HTTP would answer, only after that resolved;
 * an unacknowledged envelope is redelivered by Slack and deduplicated.
 *
 * @slack/socket-mode is @slack/bolt's dependency, not ours (it is nested under bolt in node_modules), so it is
 * loaded from bolt's location; its type comes from bolt's SocketModeReceiver. Adding @slack/socket-mode to
 * package.json would let this be a plain import.
 */
import { createRequire } from 'node:module';
import type { SocketModeReceiver } from '@slack/bolt';
import type { WebClientOptions } from '@slack/web-api';
import type { Logger } from 'pino';
import type { ChannelHealth, IngressSink } from '../../src/core/adapter.js';
import { slackLogger } from './client.js';
import { safeErr } from '../../src/observability/logger.js';
import { dispatchSlack, type DispatchDeps, type SlackInbound } from './ingress.js';

type SocketModeClient = SocketModeReceiver['client'];
type SocketModeClientCtor = new (opts: {
  appToken: string;
  logger: ReturnType<typeof slackLogger>;
  clientOptions?: Omit<WebClientOptions, 'logger' | 'logLevel'>;
  autoReconnectEnabled?: boolean;
}) => SocketModeClient;

function loadSocketModeClient(): SocketModeClientCtor {
  const fromHere = createRequire(import.meta.url);
  const fromBolt = createRequire(fromHere.resolve('@slack/bolt'));
  return (fromBolt('@slack/socket-mode') as { SocketModeClient: SocketModeClientCtor }).SocketModeClient;
}

/** Socket Mode envelope types and what the HTTP Request URL calls the same thing. */
const SOCKET_KINDS = new Map<string, SlackInbound['kind']>([
  ['events_api', 'event'],
  ['slash_commands', 'command'],
  ['interactive', 'interaction'],
]);

interface SlackEventArgs {
  ack: (response?: Record<string, unknown>) => Promise<void>;
  type: string;
  body: unknown;
  retry_num?: number;
}

export interface SocketModeOptions {
  appToken: string;
  apiUrl: string;
  log: Logger;
  /** Delay before retrying a start that failed outright (network down, apps.connections.open refused). */
  restartDelayMs?: number;
}

export class SlackSocketMode {
  private client: SocketModeClient | undefined;
  private state: ChannelHealth = { state: 'down', detail: 'not started' };
  private stopped = true;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: SocketModeOptions) {}

  health(): ChannelHealth {
    return this.state;
  }

  /**
   * Starts connecting and returns at once: the SDK can spend minutes retrying apps.connections.open while Slack is
   * unreachable, and gateway startup must not wait on that. `health()` reports the progress. Never throws.
   */
  async start(sink: IngressSink, deps: Omit<DispatchDeps, 'sink'>): Promise<void> {
    this.stopped = false;
    let Client: SocketModeClientCtor;
    try {
      Client = loadSocketModeClient();
    } catch (err) {
      this.state = { state: 'down', detail: `@slack/socket-mode not loadable: ${(err as Error).message}` };
      this.opts.log.error({ err: safeErr(err) }, 'slack socket mode: client library missing');
      return;
    }
    const client = new Client({
      appToken: this.opts.appToken,
      logger: slackLogger(this.opts.log),
      // apps.connections.open goes to our API URL (a fake in tests); the SDK retries it itself while reconnecting.
      clientOptions: { slackApiUrl: this.opts.apiUrl },
    });
    this.client = client;
    const set = (state: ChannelHealth['state'], detail?: string) =>
      (this.state = detail ? { state, detail } : { state });
    client.on('connecting', () => set('connecting'));
    client.on('reconnecting', () => set('connecting', 'reconnecting'));
    client.on('connected', () => set('up'));
    client.on('disconnected', () => set('down', this.stopped ? 'stopped' : 'disconnected'));
    client.on('slack_event', (args: SlackEventArgs) => void this.onEnvelope(args, { ...deps, sink }));
    set('connecting');
    void this.connect(client);
  }

  private async connect(client: SocketModeClient): Promise<void> {
    try {
      await client.start();
    } catch (err) {
      // The SDK gives up for good on some failures (network errors, invalid app token): keep trying ourselves.
      this.state = { state: 'down', detail: `start failed: ${(err as Error).message}` };
      this.opts.log.warn({ err: safeErr(err) }, 'slack socket mode: start failed, retrying');
      if (this.stopped) return;
      this.restartTimer = setTimeout(() => void this.connect(client), this.opts.restartDelayMs ?? 10_000);
      this.restartTimer.unref?.();
    }
  }

  private async onEnvelope(args: SlackEventArgs, deps: DispatchDeps): Promise<void> {
    const log = this.opts.log;
    const kind = SOCKET_KINDS.get(args.type);
    try {
      if (!kind) {
        // `hello`, `disconnect` are the SDK's own; anything newer is acknowledged so Slack does not redeliver it.
        log.info({ type: args.type.slice(0, 64) }, 'slack socket mode: envelope type not handled, acknowledged');
        await args.ack();
        return;
      }
      const res = await dispatchSlack({ kind, body: args.body }, deps);
      if (res.status === 400) {
        // Malformed: acknowledged anyway, as Slack would only redeliver the same bytes.
        log.warn({ kind, error: res.body.error }, 'slack socket mode: malformed envelope acknowledged');
        await args.ack();
      } else if (typeof res.body === 'string') await args.ack(res.body ? { text: res.body } : undefined);
      else await args.ack(res.body);
    } catch (err) {
      // Not acknowledged: Slack redelivers, and the message id / trigger claim dedupes it.
      log.warn({ type: args.type, err: safeErr(err) }, 'slack socket mode: envelope not handled');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const client = this.client;
    this.client = undefined;
    if (client) await client.disconnect().catch(() => undefined);
    this.state = { state: 'down', detail: 'stopped' };
  }
}
