/**
 * An app created from adapters/slack/manifest.yaml works with the adapter's defaults: each URL the manifest gives
 * Slack (events, the slash command, interactivity) is one the adapter serves, for the kind Slack will send there.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createSlackAdapter, type BlockActions } from '../../../adapters/slack/index.js';
import { registerAdapterRoutes } from '../../../src/ingress/raw-body.js';
import { BOT, fixtureJson, fixtureText, recordingSink, signedHeaders } from '../../fakes/slack/requests.js';

const SECRET = 'manifest-signing-secret';
const FORM = 'application/x-www-form-urlencoded';
const prefix = `test:slack-manifest:${randomUUID()}`;
const redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');

const manifest = parse(readFileSync(new URL('../../../adapters/slack/manifest.yaml', import.meta.url), 'utf8'));
const pathOf = (url: string) => new URL(url).pathname;

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

describe('slack manifest', () => {
  it('points events, the slash command and interactivity at one Request URL', () => {
    const urls = [
      manifest.settings.event_subscriptions.request_url,
      manifest.features.slash_commands[0].url,
      manifest.settings.interactivity.request_url,
    ];
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(urls.map(pathOf)).toEqual(['/slack/events', '/slack/events', '/slack/events']);
  });

  it('sends installs back to the redirect path and tells the gateway when a workspace leaves', () => {
    expect(manifest.oauth_config.redirect_urls.map(pathOf)).toEqual(['/slack/oauth_redirect']);
    expect(manifest.settings.event_subscriptions.bot_events).toEqual(
      expect.arrayContaining(['app_uninstalled', 'tokens_revoked']),
    );
  });

  it('each URL it names answers what Slack sends there, with the adapter on its defaults', async () => {
    const clicks: BlockActions[] = [];
    const adapter = createSlackAdapter({
      botToken: 'xoxb-manifest',
      signingSecret: SECRET,
      botUserId: BOT,
      redis,
      keyPrefix: prefix,
    });
    adapter.onBlockActions(async (p) => void clicks.push(p));
    const sink = recordingSink();
    const http = Fastify();
    await registerAdapterRoutes(http, adapter, sink);
    const post = (url: string, body: string, contentType: string) =>
      http.inject({
        method: 'POST',
        url: pathOf(url),
        payload: body,
        headers: signedHeaders(SECRET, body, { contentType }),
      });
    try {
      const challenge = await post(
        manifest.settings.event_subscriptions.request_url,
        fixtureText('url_verification.json'),
        'application/json',
      );
      expect(challenge.json()).toEqual({ challenge: fixtureJson('url_verification.json').challenge });

      const command = new URLSearchParams(fixtureText('slash_command.txt'));
      command.set('command', manifest.features.slash_commands[0].command);
      command.set('text', 'help');
      const ack = await post(manifest.features.slash_commands[0].url, command.toString(), FORM);
      expect([ack.statusCode, ack.body]).toEqual([200, '']);

      const click = JSON.parse(
        readFileSync(new URL('../../fixtures/slack/block_actions.json', import.meta.url), 'utf8'),
      );
      const clicked = await post(
        manifest.settings.interactivity.request_url,
        new URLSearchParams({ payload: JSON.stringify(click) }).toString(),
        FORM,
      );
      expect(clicked.statusCode).toBe(200);

      await new Promise((r) => setTimeout(r, 200));
      expect(sink.commands.map((c) => c.name)).toEqual(['help']);
      expect(clicks.map((c) => c.actions[0]!.action_id)).toEqual(['approve_request']);
    } finally {
      await http.close();
    }
  });
});
