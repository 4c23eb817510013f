/**
 * A platform preview of an answer being written: one message, posted at the first text and edited in place at
 * most every `minIntervalMs` (the platform's rate limit) with at least `minChars` new characters. The preview is
 * the answer rendered in the platform's dialect with an open code fence closed, so it stays valid mid-stream; an
 * answer longer than one message shows its first part and an ellipsis (the reply then continues in more parts).
 *
 * The preview message is recorded under the turn's first inbound event (`previews` hash, preview-record.ts), which a
 * retried turn (its worker was killed) shares: the retry takes the orphan over and edits it from the start, and the
 * outbox finalises it with the committed reply's first part instead of posting a second message. A worker killed
 * between the platform taking the post and the record is covered where the platform allows: Discord's nonce returns
 * the same message to the retry's post; on Slack the retry lists the thread for the bot's unsettled preview.
 *
 * Platforms differ in how a preview updates (LivePreviewOps): where the platform streams (`append`, Slack) the
 * preview appends the new markdown to the stream it started, and falls back to whole-text edits when it cannot
 * append (an orphan taken over, text reset by a new model response); a draft (`isDraft`, Telegram private chats)
 * is never recorded, since the committed reply is posted as a message of its own and replaces it.
 *
 * A resumed run (an approval's decision) previews in the approval prompt itself: the prompt is edited with the
 * platform's approval `replace` (its buttons go at the first update), never recorded nor removed, and the outbox
 * then replaces it with the committed answer. So the conversation keeps one message: prompt, preview, answer.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { closeOpenFence } from '../agent/runtime.js';
import type { ChannelAdapter } from '../core/adapter.js';
import type { TurnContext } from '../core/module.js';
import type { AdapterRegistry } from '../core/registry.js';
import type { Keys } from '../queue/keys.js';
import { safeErr } from '../observability/logger.js';
import { readPreview, recordPosting, recordPreview } from './preview-record.js';
import type { TurnPreview } from './turns.js';

const CURSOR = ' …';

export interface PreviewDeps {
  redis: Redis;
  keys: Keys;
  adapters: AdapterRegistry;
  log: Logger;
  /** Platforms with previews switched off (LIVE_PREVIEWS_OFF). */
  off: string[];
}

export function platformPreviews(d: PreviewDeps): (ctx: TurnContext) => TurnPreview | undefined {
  return (ctx) => {
    const adapter = d.adapters.get(ctx.ref.platform);
    if (!adapter?.preview || d.off.includes(ctx.ref.platform) || !ctx.events.length) return undefined;
    return new Preview(d, adapter, ctx);
  };
}

class Preview implements TurnPreview {
  private text = '';
  private shown = '';
  private shownRaw = 0; // how much of `text` the preview shows
  private messageId: string | null | undefined; // undefined: not looked up yet
  private lastAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private failed = false;
  /** Appending to a stream this attempt started; false once whole-text edits take over. */
  private appending: boolean;
  private readonly draft: boolean;
  /** The approval prompt this resumed run previews in (edited, never posted, recorded or removed). */
  private readonly prompt: string | undefined;
  private readonly interval: number;
  private readonly key: string;
  private readonly field: string;

  constructor(
    private readonly d: PreviewDeps,
    private readonly adapter: ChannelAdapter,
    private readonly ctx: TurnContext,
  ) {
    this.key = d.keys.previews(ctx.conversationKey);
    this.field = ctx.events[0]!.id;
    const ops = adapter.preview!;
    this.prompt = adapter.approvals ? ctx.approval?.promptMessageId : undefined;
    this.appending = ops.append !== undefined && !this.prompt;
    this.draft = (ops.isDraft?.(ctx.ref) ?? false) && !this.prompt;
    if (this.prompt) this.messageId = this.prompt;
    const interval = ops.intervalFor?.(ctx.ref) ?? ops.minIntervalMs;
    // A prompt is a real message: its edits keep at least the platform's pace for messages (a draft's is quicker).
    const pace = adapter.paceMs?.(ctx.ref) ?? adapter.limits.minSendIntervalMs;
    this.interval = this.prompt ? Math.max(interval, pace) : interval;
  }

  delta(text: string): void {
    this.text += text;
    this.schedule();
  }

  reset(): void {
    this.text = '';
    // Appended text cannot be taken back: from here on the stream is replaced by whole-text edits.
    if (this.shownRaw > 0) this.appending = false;
    this.shownRaw = 0;
  }

  /**
   * No last edit here: the outbox's edit with the committed reply follows at once, and two edits in a row would
   * spend the platform's edit budget. Only a preview left with nothing to show (a silent answer) is removed.
   */
  async end(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.text.trim()) this.enqueue(() => this.flush(true));
    await this.chain;
  }

  private schedule(): void {
    if (this.timer || this.failed) return;
    const ops = this.adapter.preview!;
    if (this.shown && this.text.length - this.shownRaw < ops.minChars) return;
    const wait = Math.max(0, this.lastAt + this.interval - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.enqueue(() => this.flush(false));
    }, wait);
  }

  private enqueue(fn: () => Promise<void>): void {
    this.chain = this.chain.then(fn).catch((err: Error) => {
      // Previews are best effort: the committed reply is posted (or edited in) by the outbox regardless.
      this.failed = true;
      const platform = this.ctx.ref.platform;
      this.d.log.warn({ platform, err: safeErr(err) }, 'live preview update failed; no more updates this turn');
    });
  }

  private view(final: boolean): string {
    const parts = this.adapter.render(closeOpenFence(this.text));
    const first = parts[0] ?? '';
    const more = parts.length > 1 || !final;
    if (!more) return first;
    const max = this.adapter.limits.maxMessageChars - CURSOR.length;
    return (first.length > max ? first.slice(0, max) : first) + CURSOR;
  }

  private async flush(final: boolean): Promise<void> {
    if (this.failed && !final) return;
    const ops = this.adapter.preview!;
    const ref = this.ctx.ref;
    if (this.messageId === undefined) {
      this.messageId = this.draft ? null : await this.orphan();
      if (this.messageId) this.appending = false; // an orphan a killed attempt streamed: edited from the start
    }
    if (!this.text.trim()) {
      // Nothing to show (a silent answer): an orphan preview a killed attempt left goes away.
      if (final && this.messageId && !this.draft && !this.prompt) {
        await ops.remove(ref, this.messageId).catch(() => undefined);
        await this.d.redis.hdel(this.key, this.field);
        this.messageId = null;
      }
      return;
    }
    if (this.appending) return this.appendMore();
    const view = this.view(final);
    const raw = this.text.length;
    if (view === this.shown) return;
    // Paced from the call and again from the platform's answer: text arriving meanwhile waits a full interval,
    // and a slow call never lets two updates land close together.
    this.lastAt = Date.now();
    if (this.prompt) await this.adapter.approvals!.replace(ref, this.prompt, view);
    else if (this.messageId) await ops.edit(ref, this.messageId, view);
    else await this.start(view);
    this.lastAt = Date.now();
    this.shown = view;
    this.shownRaw = raw;
    if (!final) this.schedule(); // text that came while the platform answered
  }

  /** A stream: only what is new since the last update, as markdown, up to one message's worth. */
  private async appendMore(): Promise<void> {
    const ops = this.adapter.preview!;
    const end = Math.min(this.text.length, this.adapter.limits.maxMessageChars);
    const more = this.text.slice(this.shownRaw, end);
    if (!more) return;
    this.lastAt = Date.now();
    if (this.messageId) await ops.append!(this.ctx.ref, this.messageId, more);
    else await this.start(more);
    this.lastAt = Date.now();
    this.shown += more;
    this.shownRaw = end;
    this.schedule();
  }

  /** A preview an earlier attempt of this turn left: recorded, or (its record cut short by a kill) listed. */
  private async orphan(): Promise<string | null> {
    const record = await readPreview(this.d.redis, this.key, this.field);
    if (!record) return null;
    if ('messageId' in record) return record.messageId;
    const ops = this.adapter.preview!;
    const found = await ops.unsettled?.(this.ctx.ref, this.ctx.events.at(-1)?.platformMessageId, record.postingSince);
    const id = found?.[0];
    if (!id) return null;
    await recordPreview(this.d.redis, this.key, this.field, id);
    this.d.log.info({ platform: this.ctx.ref.platform }, 'live preview: took over an unrecorded preview');
    return id;
  }

  private async start(text: string): Promise<void> {
    const ops = this.adapter.preview!;
    const last = this.ctx.events.at(-1);
    // Keyed by the turn's first event, as the record below: a post whose record a kill prevented is found again.
    const key = `preview:${this.field}`;
    // Set before the post: a typing indicator started while the platform answers would cost two more calls.
    this.ctx.previewShown = true;
    if (ops.unsettled && !this.draft) await recordPosting(this.d.redis, this.key, this.field);
    this.messageId = await ops.post(this.ctx.ref, text, last?.platformMessageId, last?.sender.id, key);
    if (this.draft) return;
    await recordPreview(this.d.redis, this.key, this.field, this.messageId);
  }
}
