/**
 * The local channel's HTTP interface, so tools and the terminal client can talk to the bot with no platform:
 *   POST /local/messages                       {conversation, user, text, wait?} -> 202 {id} | 200 {id, replies}
 *   GET  /local/conversations/:c/messages      ?after=<id>&waitMs=<ms> -> {replies: [{id, text, part}]}
 *        (a long-poll; past LOCAL_POLL_MAX open ones, 429 + Retry-After at once when nothing is there yet)
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { IngressSink } from '../../src/core/adapter.js';
import { parseCommandText } from '../../src/commands/registry.js';
import type { DeliveryWaiters } from '../../src/outbound/notifications.js';
import { toInboundEvent } from './parse.js';
import { localMessageBodySchema, localMessageSchema } from './schema.js';
import { dataUrlBytes } from '../../src/attachments/download.js';
import type { LocalPolls } from './long-poll.js';
import { apiKeyMatches } from './verify.js';
import { parseJson as parseBoundedJson } from '../../src/ingress/json.js';

export interface LocalRouteOptions {
  redis: Redis;
  streamKey(conversation: string): string;
  waiters?: DeliveryWaiters;
  apiKey?: string;
  waitTimeoutMs: number;
  polls: LocalPolls;
  /** Most bytes of one `data:` URL file (ATTACHMENT_MAX_BYTES); over it the message is refused with 413. */
  maxAttachmentBytes?: number;
}

function parseJson(body: unknown): unknown {
  if (!Buffer.isBuffer(body) || !body.length) return undefined;
  try {
    return parseBoundedJson(body);
  } catch {
    return undefined;
  }
}

export function registerLocalRoutes(http: FastifyInstance, sink: IngressSink, o: LocalRouteOptions): void {
  const authorized = (req: FastifyRequest, reply: FastifyReply): boolean => {
    if (apiKeyMatches(req.headers['x-api-key'] as string | undefined, o.apiKey)) return true;
    void reply.code(401).send({ error: 'missing or invalid x-api-key' });
    return false;
  };

  http.post('/local/messages', async (req, reply) => {
    if (!authorized(req, reply)) return reply;
    const json = parseJson(req.body);
    if (json === undefined) return reply.code(400).send({ error: 'body must be a JSON object' });
    const parsed = localMessageBodySchema.safeParse(json);
    if (!parsed.success) {
      return reply
        .code(400)
        .send({ error: parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') });
    }
    const msg = parsed.data;
    const cap = o.maxAttachmentBytes;
    const big = cap ? msg.attachments.find((a) => a.url.startsWith('data:') && dataUrlBytes(a.url) > cap) : undefined;
    if (big) return reply.code(413).send({ error: `attachment too large: the limit is ${cap} bytes per file` });
    const event = toInboundEvent(msg);
    const cmd = parseCommandText(msg.text);
    if (cmd) {
      const result = await sink.command({
        platform: 'local',
        tenant: 'default',
        conversation: event.conversation,
        user: { id: msg.user, name: msg.name },
        name: cmd.name,
        args: cmd.args,
        id: event.id,
      });
      return reply.code(200).send({ id: event.id, replies: [{ text: result.text, command: true }] });
    }
    if (!msg.wait || !o.waiters) {
      const outcome = await sink.submit(event);
      return reply.code(202).send({ id: event.id, duplicate: outcome === 'duplicate' || undefined });
    }
    const waiter = o.waiters.waitFor(event.id, o.waitTimeoutMs);
    let outcome: string;
    try {
      outcome = await sink.submit(event);
    } catch (err) {
      waiter.cancel();
      throw err;
    }
    // A retry of a message already answered: the answer it got, not a wait for one that never comes again.
    const prior = outcome === 'duplicate' ? await o.waiters.recent(o.redis, event.id) : null;
    if (prior) waiter.cancel();
    const delivered = prior ?? (await waiter.promise);
    if (!delivered)
      return reply
        .code(504)
        .send({ id: event.id, error: `no reply within ${o.waitTimeoutMs} ms; it will still be answered` });
    return reply.code(200).send({
      id: event.id,
      turnId: delivered.turnId,
      outcome: delivered.outcome,
      replies: delivered.parts.map((text) => ({ text })),
    });
  });

  http.addHook('preClose', async () => o.polls.release());
  const query = z.object({
    after: z
      .string()
      .regex(/^(\$|0|\d+-\d+)$/)
      .default('0'),
    waitMs: z.coerce.number().int().min(0).max(60_000).default(0),
  });
  http.get('/local/conversations/:conversation/messages', async (req, reply) => {
    if (!authorized(req, reply)) return reply;
    const conv = localMessageSchema.shape.conversation.safeParse((req.params as { conversation: string }).conversation);
    const q = query.safeParse(req.query);
    if (!conv.success || !q.success) return reply.code(400).send({ error: 'bad conversation or query' });
    const replies = await o.polls.read(o.redis, o.streamKey(conv.data), q.data.after, q.data.waitMs);
    if (!replies)
      return reply
        .code(429)
        .header('retry-after', '1')
        .send({ error: 'too many long-polls open; retry shortly', replies: [] });
    return { replies };
  });
}
