/**
 * Bull Board (the BullMQ UI) at /admin/queues, behind admin authentication: `x-api-key: ADMIN_API_KEY` or HTTP
 * basic auth with that key as the password. Without a key it is served only in development.
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { apiKeyMatches } from '../core/api-key.js';

export const BOARD_PATH = '/admin/queues';

function presentedKey(headers: Record<string, string | string[] | undefined>): string | undefined {
  const key = headers['x-api-key'];
  if (typeof key === 'string') return key;
  const auth = headers.authorization;
  if (typeof auth === 'string' && auth.startsWith('Basic ')) {
    const decoded = Buffer.from(auth.slice(6), 'base64').toString('utf8');
    return decoded.slice(decoded.indexOf(':') + 1);
  }
  return undefined;
}

export async function mountBullBoard(
  app: FastifyInstance,
  queues: Queue[],
  adminKey: string | undefined,
): Promise<void> {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(BOARD_PATH);
  createBullBoard({ queues: queues.map((q) => new BullMQAdapter(q)), serverAdapter });
  await app.register(async (scope) => {
    if (adminKey) {
      scope.addHook('onRequest', async (req, reply) => {
        if (!apiKeyMatches(presentedKey(req.headers), adminKey)) {
          return reply
            .code(401)
            .header('www-authenticate', 'Basic realm="queues"')
            .send({ error: 'admin authentication required' });
        }
      });
    }
    await scope.register(serverAdapter.registerPlugin(), { prefix: BOARD_PATH });
  });
}
