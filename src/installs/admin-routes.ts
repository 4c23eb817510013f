/**
 * Admin HTTP routes for extra bots (ADMIN_API_KEY as `x-api-key` or a bearer token):
 * - `GET /admin/bots`: the bots (names, tenants, how they receive updates; never tokens),
 * - `PUT /admin/bots/:platform/:name` `{"token", "webhookSecret"?}`: add or replace a bot; it answers at once in
 *   this process, and the others hear of it over Redis pub/sub at once (BOTS_SYNC_MS is the fallback for a missed
 *   announcement) (webhook bots at `/<platform>/bots/<name>/webhook`),
 * - `DELETE /admin/bots/:platform/:name`: remove it, the same way.
 * Telegram only for now; the fleet (adapters/kit/fleet.ts) is what another platform would plug into.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { BotFleet } from '../../adapters/kit/fleet.js';
import { secretsEqual } from '../core/api-key.js';
import { safeErr } from '../core/safe-error.js';
import type { BotStore } from './bots.js';

const TELEGRAM_TOKEN = /^(\d+):[A-Za-z0-9_-]+$/;

/** A Telegram bot's id is the number before its token's colon (also what getMe answers). */
export const telegramBotId = (token: string) => token.split(':')[0]!;

const nameSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lower-case letters, digits, _ and -');
const telegramBotSchema = z.object({
  token: z.string().regex(TELEGRAM_TOKEN, 'a bot token (<id>:<secret>)'),
  webhookSecret: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,256}$/, '1-256 characters of A-Z, a-z, 0-9, _ and -')
    .optional(),
});

function presentedKey(req: FastifyRequest): string | undefined {
  const key = req.headers['x-api-key'];
  if (typeof key === 'string') return key;
  const auth = req.headers.authorization;
  return auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length) : undefined;
}

export function registerBotAdminRoutes(
  app: FastifyInstance,
  o: {
    store: BotStore;
    fleets: BotFleet[];
    /** Tell every replica that a platform's bots changed. */
    announce(platform: string): Promise<void>;
    adminKey: string;
    log: Logger;
  },
): void {
  const fleetOf = (platform: string) => o.fleets.find((f) => f.platform === platform);

  app.register(async (admin) => {
    admin.addHook('onRequest', async (req, reply) => {
      if (!secretsEqual(presentedKey(req), o.adminKey)) return reply.code(401).send({ error: 'unauthorized' });
    });

    admin.get('/admin/bots', async () => {
      const bots = await Promise.all(o.fleets.map((f) => o.store.list(f.platform)));
      return {
        bots: bots.flat().map((b) => ({
          platform: b.platform,
          name: b.name,
          tenant: b.tenant,
          mode: b.webhookSecret ? 'webhook' : 'polling',
          ...(b.webhookSecret ? { webhookPath: `/${b.platform}/bots/${b.name}/webhook` } : {}),
          createdAt: b.createdAt,
        })),
      };
    });

    admin.put<{ Params: { platform: string; name: string } }>('/admin/bots/:platform/:name', async (req, reply) => {
      const fleet = fleetOf(req.params.platform);
      if (req.params.platform !== 'telegram' || !fleet)
        return reply
          .code(404)
          .send({ error: 'this platform takes no added bots (TELEGRAM_BOT_TOKEN or BOTS_PLATFORMS)' });
      const name = nameSchema.safeParse(req.params.name);
      const body = telegramBotSchema.safeParse(req.body);
      if (!name.success) return reply.code(400).send({ error: `name: ${name.error.issues[0]!.message}` });
      if (!body.success) {
        const i = body.error.issues[0]!;
        return reply.code(400).send({ error: `${i.path.join('.')}: ${i.message}` }); // names the field, not its value
      }
      const tenant = telegramBotId(body.data.token);
      if (tenant === fleet.primaryTenant)
        return reply.code(409).send({ error: 'this is the deployment’s own bot (TELEGRAM_BOT_TOKEN)' });
      const taken = (await o.store.list('telegram')).find((b) => b.tenant === tenant && b.name !== name.data);
      if (taken) return reply.code(409).send({ error: `this bot is already added as "${taken.name}"` });
      await o.store.put('telegram', name.data, tenant, body.data);
      await fleet.sync();
      await o.announce('telegram').catch((err: Error) => o.log.warn({ err: safeErr(err) }, 'bots: announce failed'));
      o.log.info({ platform: 'telegram', bot: name.data, tenant }, 'bot saved by an admin');
      return reply.code(201).send({
        platform: 'telegram',
        name: name.data,
        tenant,
        mode: body.data.webhookSecret ? 'webhook' : 'polling',
        ...(body.data.webhookSecret ? { webhookPath: `/telegram/bots/${name.data}/webhook` } : {}),
      });
    });

    admin.delete<{ Params: { platform: string; name: string } }>('/admin/bots/:platform/:name', async (req, reply) => {
      const removed = await o.store.remove(req.params.platform, req.params.name);
      await fleetOf(req.params.platform)?.sync();
      if (removed)
        await o
          .announce(req.params.platform)
          .catch((err: Error) => o.log.warn({ err: safeErr(err) }, 'bots: announce failed'));
      if (!removed) return reply.code(404).send({ error: 'no such bot' });
      o.log.info({ platform: req.params.platform, bot: req.params.name }, 'bot removed by an admin');
      return reply.code(204).send();
    });
  });
}
