/**
 * Live text on the local channel: `GET /local/conversations/:conversation/stream[?user=<id>][&once=1]` is a
 * server-sent event stream of the answer being written there (`delta` {turnId, text}, `reset` {turnId}, `end`
 * {turnId, stopped}). Previews only: the committed reply arrives as always on `/messages` (the terminal client and
 * web tools show the preview, then replace it with the reply). `user` also follows that user's DM with the bot;
 * `once=1` ends the stream after the first turn's `end`. Only turns that start while someone watches stream (an
 * unwatched turn runs its model unstreamed, src/live/turns.ts): subscribe, then send. A `reset` says the text
 * shown so far is void: a new model response, or a retried turn whose first attempt died mid-stream (sent before
 * the retry's first delta).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { SseStream } from '../../src/api/sse.js';
import type { LiveFeed } from '../../src/live/feed.js';
import { localMessageSchema } from './schema.js';
import { apiKeyMatches } from './verify.js';

const query = z.object({
  user: z.string().min(1).max(200).optional(),
  once: z.enum(['0', '1', 'true', 'false']).optional(),
});

const HEARTBEAT_MS = 15_000;

export function registerLocalStream(http: FastifyInstance, feed: LiveFeed, apiKey: string | undefined): void {
  const open = new Set<SseStream>();
  http.addHook('preClose', async () => {
    for (const s of open) s.end();
  });
  http.get('/local/conversations/:conversation/stream', async (req: FastifyRequest, reply: FastifyReply) => {
    if (!apiKeyMatches(req.headers['x-api-key'] as string | undefined, apiKey)) {
      return reply.code(401).send({ error: 'missing or invalid x-api-key' });
    }
    const conv = localMessageSchema.shape.conversation.safeParse((req.params as { conversation: string }).conversation);
    const q = query.safeParse(req.query);
    if (!conv.success || !q.success) return reply.code(400).send({ error: 'bad conversation or query' });
    const keys = [`local:default:${conv.data}`, ...(q.data.user ? [`local:default:dm:${q.data.user}`] : [])];
    const once = q.data.once === '1' || q.data.once === 'true';
    const sse = new SseStream(reply, {});
    open.add(sse);
    const unwatch: (() => void)[] = [];
    const close = () => {
      for (const u of unwatch) u();
      open.delete(sse);
    };
    sse.whenClientGone(close);
    for (const key of keys) {
      unwatch.push(
        await feed.watch(key, (e) => {
          if (e.type === 'delta') sse.send('delta', { turnId: e.turnId, text: e.text });
          else if (e.type === 'reset') sse.send('reset', { turnId: e.turnId });
          else {
            sse.send('end', { turnId: e.turnId, stopped: e.stopped });
            if (once) {
              close();
              sse.end();
            }
          }
        }),
      );
    }
    // Subscribed: from here on nothing is missed. The comment tells a client it may send its message now.
    sse.send('ready', { conversations: keys.length });
    sse.heartbeat(HEARTBEAT_MS);
    return reply;
  });
}
