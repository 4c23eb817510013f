/**
 * The Discord channel on the REAL app (composition root, ingress sink, worker, outbox, delivery) against the
 * loopback fake Discord: env for `startTestApp`, signed interaction posts, and waits that read what users would see.
 */
import { pino, type Logger } from 'pino';
import type { ChannelAdapter } from '../../../src/core/adapter.js';
import { startTestApp, type TestApp } from '../../helpers/app.js';
import type { TestDatabase } from '../../helpers/services.js';
import { FakeDiscord, IDS, createSigner, loadFixture, snowflake, type TestSigner } from '../../fakes/discord/index.js';
import { sleep, waitFor } from '../../helpers/wait.js';

export { sleep, waitFor };

export interface DiscordApp {
  fake: FakeDiscord;
  signer: TestSigner;
  app: TestApp;
  adapter: ChannelAdapter;
}

/** The env a deployment sets for Discord, pointed at the fake. */
export function discordEnv(
  fake: FakeDiscord,
  signer: TestSigner,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    DISCORD_TOKEN: fake.token,
    DISCORD_APPLICATION_ID: IDS.app,
    DISCORD_PUBLIC_KEY: signer.publicKeyHex,
    DISCORD_API_URL: fake.apiUrl,
    ...extra,
  };
}

/**
 * Starts the real app with the Discord channel on (from env) and waits until it holds the gateway. A fake it
 * creates echoes the bot's own messages back over the gateway, as Discord does.
 */
export async function startDiscordApp(
  o: {
    fake?: FakeDiscord;
    signer?: TestSigner;
    env?: Record<string, string>;
    role?: 'all' | 'gateway' | 'worker';
    db?: TestDatabase;
    log?: Logger;
    waitUp?: boolean;
  } = {},
): Promise<DiscordApp> {
  let fake = o.fake;
  if (!fake) {
    fake = await new FakeDiscord().start();
    fake.echoOwnMessages = true;
  }
  const signer = o.signer ?? createSigner();
  let app: TestApp | undefined;
  try {
    app = await startTestApp({
      env: discordEnv(fake, signer, o.env),
      ...(o.role ? { role: o.role } : {}),
      ...(o.db ? { db: o.db } : {}),
      ...(o.log ? { log: o.log } : {}),
    });
    const adapter = app.adapters.get('discord');
    if (!adapter) throw new Error('the app did not build a discord adapter from DISCORD_* env');
    if (o.waitUp ?? true) await waitFor(() => adapter.health().state === 'up', 'discord gateway up');
    return { fake, signer, app, adapter };
  } catch (err) {
    await app?.close().catch(() => undefined);
    if (!o.fake) await fake.stop();
    throw err;
  }
}

/** Waits until a channel has at least `n` messages from the bot, and returns their contents. */
export function repliesIn(fake: FakeDiscord, channelId: string, n = 1, ms = 20_000): Promise<string[]> {
  return waitFor(
    () => {
      const c = fake.rest.contents(channelId);
      return c.length >= n && c;
    },
    `${n} message(s) in channel ${channelId}`,
    ms,
  );
}

const commandFixture = loadFixture<Record<string, any>>('interaction_application_command.json');

/** An APPLICATION_COMMAND interaction from the documented fixture, for `name`, with a fresh id and token. */
export function commandInteraction(name: string, overrides: Record<string, unknown> = {}): Record<string, any> {
  const id = snowflake();
  return {
    ...structuredClone(commandFixture),
    id,
    token: `interaction-token-${id}`,
    data: { type: 1, name, id: '771825006014889984', options: [] },
    ...overrides,
  };
}

/** POST a body to the app's interactions endpoint, signed by `signer` (or with the given headers). */
export async function postInteraction(
  url: string,
  signer: TestSigner,
  body: unknown,
  headers?: Record<string, string>,
): Promise<{ status: number; json: any; ms: number }> {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  const started = Date.now();
  const res = await fetch(`${url}/discord/interactions`, {
    method: 'POST',
    headers: headers ?? signer.headers(payload),
    body: payload,
  });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, json, ms: Date.now() - started };
}

/** A pino logger writing into memory, to assert what operators would read (and what must never be there). */
export function memoryLog(level = 'info'): { log: Logger; text(): string; lines(): Record<string, any>[] } {
  const lines: string[] = [];
  const log = pino({ level }, { write: (s: string) => void lines.push(s) });
  return { log, text: () => lines.join(''), lines: () => lines.map((l) => JSON.parse(l) as Record<string, any>) };
}
