/**
 * The IngressSink every adapter hands its events to: sanitise every string (sanitize.ts), cap attachments, refuse
 * oversized input, validate, dedupe + append to the conversation's inbox, and make sure a turn is scheduled.
 * Resolves when the event is durably in Redis (the inbox), so an adapter may acknowledge the platform right after;
 * the turn job is added meanwhile (see `submit`).
 */
import type { Span } from '@opentelemetry/api';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { CommandRegistry } from '../commands/registry.js';
import type { IngressSink } from '../core/adapter.js';
import type { AdapterRegistry } from '../core/registry.js';
import { IngressError } from '../core/errors.js';
import { conversationKey, inboundEventSchema } from '../core/types.js';
import { correlationId, safeErr } from '../observability/logger.js';
import { conversationAttr, inSpan, SpanKind, traceparentOf } from '../observability/tracing.js';
import { capAttachments, inputChars } from './limits.js';
import { sanitizeEvent } from './sanitize.js';
import type { Inbox } from '../queue/inbox.js';
import type { Keys } from '../queue/keys.js';
import type { Queues } from '../queue/queues.js';

export interface SinkOptions {
  inbox: Inbox;
  queues: Queues;
  redis: Redis;
  keys: Keys;
  commands: CommandRegistry;
  /** Read at submit time for what differs per channel (adapters that modules add later count too). */
  adapters: Pick<AdapterRegistry, 'get'>;
  log: Logger;
  maxInputChars: number;
  /** Most attachments kept per event, and their total metadata size in bytes (the rest are dropped). */
  maxAttachments?: number;
  maxAttachmentBytes?: number;
  claimTtlSeconds: number;
  onSubmit?(platform: string, outcome: 'accepted' | 'duplicate' | 'refused'): void;
}

export interface Sink extends IngressSink {
  /** Waits for the turn jobs still being added (before the queue's connection closes at shutdown). */
  drain(): Promise<void>;
}

export function createIngressSink(o: SinkOptions): Sink {
  const scheduling = new Set<Promise<void>>();
  return {
    drain: async () => void (await Promise.all(scheduling)),
    log: o.log,
    // The message's trace starts here (under the webhook's HTTP span when there is one); its traceparent goes
    // into the inbox entry, so the worker's spans join it.
    submit: (input) =>
      inSpan(
        `ingress ${input.platform}`,
        { kind: SpanKind.PRODUCER, attributes: { platform: input.platform } },
        (span) => submit(input, span),
      ),
    command: (inv) => o.commands.invoke(inv),
    async claim(id) {
      return (await o.redis.set(o.keys.claim(id), '1', 'EX', o.claimTtlSeconds, 'NX')) === 'OK';
    },
  };

  async function submit(input: Parameters<IngressSink['submit']>[0], span: Span) {
    // Before anything else: the limits, dedupe and storage all see the stored form.
    let event = sanitizeEvent(input);
    const limits = {
      maxInputChars: o.maxInputChars,
      maxAttachments: o.maxAttachments ?? 10,
      maxAttachmentBytes: o.maxAttachmentBytes ?? 16_384,
    };
    const { kept, dropped } = capAttachments(event.attachments ?? [], limits);
    if (dropped) {
      o.log.warn(
        { correlationId: correlationId([event.id]), platform: event.platform, kept: kept.length, dropped },
        'attachments over the limit dropped',
      );
      event = { ...event, attachments: kept };
    }
    const chars = inputChars({ text: event.text, attachments: kept });
    if (chars > o.maxInputChars) {
      o.onSubmit?.(event.platform, 'refused');
      // HTTP clients (the local channel, the agent API) read a 413. A chat platform cannot show one to its user,
      // so the message goes on without its text and the turn answers with a polite refusal (src/access/gate.ts).
      if (o.adapters.get(event.platform)?.capabilities.refusesAtIngress) {
        throw new IngressError(413, `message too long: ${chars} characters, the limit is ${o.maxInputChars}`);
      }
      event = { ...event, text: '', attachments: [], tooLongChars: chars };
    }
    const { raw: _raw, ...plain } = event;
    const parsed = inboundEventSchema.safeParse(plain);
    if (!parsed.success) {
      o.onSubmit?.(event.platform, 'refused');
      // Names the field, never the value (zod messages can quote what they received).
      const issue = parsed.error.issues[0];
      throw new IngressError(
        400,
        `invalid event: ${issue ? `${issue.path.join('.') || 'event'} (${issue.code})` : 'unknown'}`,
      );
    }
    const key = conversationKey(parsed.data.conversation);
    span.setAttributes({ tenant: parsed.data.tenant, ...conversationAttr(key) });
    const traceparent = traceparentOf();
    const { fresh, needTurn } = await o.inbox.append(key, traceparent ? { ...parsed.data, traceparent } : parsed.data);
    // Also for a duplicate when no turn is queued: if a crash hit between an earlier append and its schedule,
    // the platform's redelivery heals it. Deduplicated in BullMQ, so an extra add is harmless.
    // Not awaited: the message is safe once in the inbox, and the add (BullMQ's heaviest script) would double the
    // time to the platform's acknowledgement. Should it fail, or the process die first, the workers' sweep
    // (SWEEP_INTERVAL_MS) schedules every conversation whose inbox holds messages.
    if (needTurn) {
      const adding: Promise<void> = o.queues
        .scheduleTurn(key)
        .catch((err: Error) =>
          o.log.warn({ conversation: key, err: safeErr(err) }, 'turn not scheduled; the sweep will schedule it'),
        )
        .finally(() => scheduling.delete(adding));
      scheduling.add(adding);
    }
    const outcome = fresh ? 'accepted' : 'duplicate';
    span.setAttribute('ingress.outcome', outcome);
    o.onSubmit?.(event.platform, outcome);
    o.log.info(
      { correlationId: correlationId([event.id]), platform: event.platform, conversation: key, outcome },
      'inbound event',
    );
    return outcome;
  }
}
