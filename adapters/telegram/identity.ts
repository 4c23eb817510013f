/**
 * Who the bot is (id and username), from getMe: mention gating needs the username, event ids the id. Fetched at
 * start with back-off and, for webhooks, on demand; a Telegram outage at boot must never crash the gateway.
 */
import type { Api } from 'grammy';
import type { Logger } from 'pino';
import { backoffDelay, sleep, type Backoff } from '../kit/backoff.js';
import type { BotIdentity } from './parse.js';
import { safeErr } from '../../src/observability/logger.js';

export class BotIdentityCache {
  private value: BotIdentity | undefined;
  private inflight: Promise<BotIdentity | undefined> | undefined;
  lastError: string | undefined;

  constructor(
    private readonly api: Api,
    private readonly log: () => Logger,
  ) {}

  get known(): BotIdentity | undefined {
    return this.value;
  }

  /** One getMe (shared by concurrent callers); undefined on failure. */
  async tryOnce(): Promise<BotIdentity | undefined> {
    if (this.value) return this.value;
    this.inflight ??= this.api
      .getMe()
      .then((me) => {
        this.value = { id: me.id, username: me.username };
        this.lastError = undefined;
        this.log().info({ bot_id: me.id, username: me.username }, 'telegram bot identity known');
        return this.value;
      })
      .catch((err: Error) => {
        this.lastError = err.message;
        this.log().warn({ err: safeErr(err) }, 'telegram getMe failed');
        return undefined;
      })
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
  }

  /** getMe until it succeeds (exponential back-off) or `signal` aborts. */
  async untilKnown(signal: AbortSignal, backoff: Backoff): Promise<BotIdentity | undefined> {
    for (let attempt = 1; !signal.aborted; attempt++) {
      const me = await this.tryOnce();
      if (me) return me;
      await sleep(backoffDelay(attempt, backoff), signal);
    }
    return undefined;
  }
}
