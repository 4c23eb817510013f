/**
 * The `api` platform's channel adapter, so the outbound stage has somewhere to deliver API turns' replies.
 *
 * API clients read answers from the committed session (runs/wait, join, state, streams): a turn's commit is the
 * durable record, and it is also the only signal silent turns give (they never reach the outbound stage). So
 * "sending" here only acknowledges the part; the receipt is the part's idempotency key, which makes a resend after
 * a crash harmless. No connection, no state: every process can build it.
 */
import type { ChannelAdapter } from '../core/adapter.js';
import { splitMessage } from '../../adapters/kit/split.js';

/** Far above any model answer: an API reply is one part, the same text the thread shows. */
const MAX_PART = 1_000_000;

export function createApiAdapter(): ChannelAdapter {
  return {
    platform: 'api',
    capabilities: { ephemeral: false, broadcasts: false, refusesAtIngress: true, authorisesCallers: true },
    limits: { maxMessageChars: MAX_PART, minSendIntervalMs: 0 },
    render: (markdown) => (markdown.length <= MAX_PART ? [markdown] : splitMessage(markdown, MAX_PART)),
    send: async (_ref, part) => ({ platformMessageId: part.idempotencyKey }),
    health: () => ({ state: 'up' }),
  };
}
