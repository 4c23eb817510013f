import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/env.js';

describe('configuration', () => {
  it('has working defaults for development: offline model, local channel on', () => {
    const c = loadConfig({});
    expect(c.isProduction).toBe(false);
    expect(c.offlineModel).toBe(true);
    expect(c.localChannelEnabled).toBe(true);
    expect(c.MAX_INPUT_CHARS).toBe(16_000);
    expect(c.LOCAL_WAIT_TIMEOUT_MS).toBe(30_000);
  });

  it('names the variable that is invalid', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ OPENAI_API: 'soap' })).toThrow(/OPENAI_API/);
    expect(() => loadConfig({ REDIS_URL: 'not a url' })).toThrow(ConfigError);
  });

  it('requires DATABASE_URL and REDIS_URL in production, and keeps the local channel off there', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', REDIS_URL: 'redis://r:6379' })).toThrow(/DATABASE_URL/);
    const c = loadConfig({ NODE_ENV: 'production', REDIS_URL: 'redis://r:6379', DATABASE_URL: 'postgres://db/x' });
    expect(c.localChannelEnabled).toBe(false);
  });

  it('refuses the local channel in production without an API key', () => {
    const base = {
      NODE_ENV: 'production',
      REDIS_URL: 'redis://r:6379',
      DATABASE_URL: 'postgres://db/x',
      LOCAL_CHANNEL: 'on',
    };
    expect(() => loadConfig(base)).toThrow(/LOCAL_API_KEY/);
    expect(loadConfig({ ...base, LOCAL_API_KEY: 'a-long-enough-key-123' }).localChannelEnabled).toBe(true);
  });

  it('uses OpenAI when a key is set unless the offline model is forced', () => {
    expect(loadConfig({ OPENAI_API_KEY: 'sk-test' }).offlineModel).toBe(false);
    expect(loadConfig({ OPENAI_API_KEY: 'sk-test', OFFLINE_MODEL: 'true' }).offlineModel).toBe(true);
  });

  it('checks that a configured channel has what it needs', () => {
    expect(() => loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1' })).toThrow(/SLACK_SIGNING_SECRET/);
    expect(() => loadConfig({ DISCORD_TOKEN: 't' })).toThrow(/DISCORD_APPLICATION_ID/);
  });

  it('never echoes a secret value in its error', () => {
    try {
      loadConfig({ DISCORD_PUBLIC_KEY: 'super-secret-not-hex' });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toMatch(/DISCORD_PUBLIC_KEY/);
      expect((err as Error).message).not.toContain('super-secret-not-hex');
    }
  });
});

describe('.env.example', () => {
  it('documents every variable the schema reads, and nothing else', async () => {
    const { readFile } = await import('node:fs/promises');
    const { envSchema } = await import('../../src/config/env.js');
    const text = await readFile(new URL('../../.env.example', import.meta.url), 'utf8');
    const documented = [...text.matchAll(/^([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]).sort();
    expect(documented).toEqual(Object.keys(envSchema.shape).sort());
  });
});
