/**
 * Admin HTTP routes for extra bots (ADMIN_API_KEY as `x-api-key` or a bearer token):
 * - `GET /admin/bots`: the bots (names, tenants, how they receive updates; never tokens),
 * - `PUT /admin/bots/:platform/:name` `{"token", "webhookSecret"?}`: add or replace a bot; it answers at once in
 *   this process, and the others hear of it over Redis pub/sub at once (BOTS_SYNC_MS is the fallback for a missed
 *   announcement) (webhook bots at `/<platform>/bots/<name>/webhook`),
 * - `DELETE /admin/bots/:platform/:name`: remove it, the same way.
 * Telegram (`{"token", "webhookSecret"?}`) and Discord (`{"token", "applicationId", "publicKey"}`: its own gateway
 * connection and shard leases, interactions at `/discord/bots/<name>/interactions`).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { BotFleet } from '../../adapters/kit/fleet.js';
import { secretsEqual } from '../core/api-key.js';
import { safeErr } from '../core/safe-error.js';
import type { BotSecrets, BotStore } from './bots.js';

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
const discordBotSchema = z.object({
  token: z.string().regex(/^[A-Za-z0-9._-]{20,200}$/, 'a bot token'),
  applicationId: z.string().regex(/^\d{5,25}$/, 'an application id (digits)'),
  publicKey: z.string().regex(/^[0-9a-fA-F]{64}$/, '64 hex characters'),
});

/** The first problem, naming the field, never its value. */
const problem = (e: z.ZodError) => `${e.issues[0]!.path.join('.')}: ${e.issues[0]!.message}`;

type Accepted = { tenant: string; secrets: BotSecrets } | { error: string };

/** Per platform: the body (its bot's tenant and secrets), and how the bot receives updates (as listed). */
const platforms: Record<
  string,
  { accept(body: unknown): Accepted; env: string; shown(name: string, b: BotSecrets): Record<string, string> }
> = {
  telegram: {
    accept(body) {
      const r = telegramBotSchema.safeParse(body);
      return r.success ? { tenant: telegramBotId(r.data.token), secrets: r.data } : { error: problem(r.error) };
    },
    env: 'TELEGRAM_BOT_TOKEN',
    shown: (name, b): Record<string, string> =>
      b.webhookSecret ? { mode: 'webhook', webhookPath: `/telegram/bots/${name}/webhook` } : { mode: 'polling' },
  },
  discord: {
    accept(body) {
      const r = discordBotSchema.safeParse(body);
      if (!r.success) return { error: problem(r.error) };
      return { tenant: r.data.applicationId, secrets: { token: r.data.token, publicKey: r.data.publicKey } };
    },
    env: 'DISCORD_TOKEN',
    shown: (name) => ({ mode: 'gateway', interactionsPath: `/discord/bots/${name}/interactions` }),
  },
};

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
          ...(Object.hasOwn(platforms, b.platform) ? platforms[b.platform]!.shown(b.name, b) : {}),
          createdAt: b.createdAt,
        })),
      };
    });

    admin.put<{ Params: { platform: string; name: string } }>('/admin/bots/:platform/:name', async (req, reply) => {
      const platform = req.params.platform;
      const fleet = fleetOf(platform);
      const p = Object.hasOwn(platforms, platform) ? platforms[platform] : undefined;
      if (!p || !fleet)
        return reply.code(404).send({ error: 'this platform takes no added bots (its bot token or BOTS_PLATFORMS)' });
      const name = nameSchema.safeParse(req.params.name);
      if (!name.success) return reply.code(400).send({ error: `name: ${name.error.issues[0]!.message}` });
      const bot = p.accept(req.body);
      if ('error' in bot) return reply.code(400).send({ error: bot.error });
      const { tenant, secrets } = bot;
      if (tenant === fleet.primaryTenant)
        return reply.code(409).send({ error: `this is the deployment’s own bot (${p.env})` });
      const taken = (await o.store.list(platform)).find((b) => b.tenant === tenant && b.name !== name.data);
      if (taken) return reply.code(409).send({ error: `this bot is already added as "${taken.name}"` });
      await o.store.put(platform, name.data, tenant, secrets);
      await fleet.sync();
      await o.announce(platform).catch((err: Error) => o.log.warn({ err: safeErr(err) }, 'bots: announce failed'));
      o.log.info({ platform, bot: name.data, tenant }, 'bot saved by an admin');
      return reply.code(201).send({ platform, name: name.data, tenant, ...p.shown(name.data, secrets) });
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
