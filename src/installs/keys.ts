/** The token ciphers, from configuration: Slack installations' key, and the extra bots' (Slack's by default). */
import type { Config } from '../config/env.js';
import { createTokenCipher, parseKey, type TokenCipher } from './token-cipher.js';

const previous = (list: string | undefined, name: string) =>
  (list ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean)
    .map((k) => parseKey(k, name));

export function slackTokenCipher(config: Config): TokenCipher {
  if (!config.SLACK_TOKEN_ENCRYPTION_KEY) throw new Error('SLACK_TOKEN_ENCRYPTION_KEY is not set');
  return createTokenCipher(
    parseKey(config.SLACK_TOKEN_ENCRYPTION_KEY, 'SLACK_TOKEN_ENCRYPTION_KEY'),
    previous(config.SLACK_TOKEN_ENCRYPTION_KEY_PREVIOUS, 'SLACK_TOKEN_ENCRYPTION_KEY_PREVIOUS'),
  );
}

/** Undefined when neither key is set: the deployment has no extra bots. */
export function botTokenCipher(config: Config): TokenCipher | undefined {
  if (config.BOT_TOKEN_ENCRYPTION_KEY)
    return createTokenCipher(
      parseKey(config.BOT_TOKEN_ENCRYPTION_KEY, 'BOT_TOKEN_ENCRYPTION_KEY'),
      previous(config.SLACK_TOKEN_ENCRYPTION_KEY_PREVIOUS, 'SLACK_TOKEN_ENCRYPTION_KEY_PREVIOUS'),
    );
  return config.SLACK_TOKEN_ENCRYPTION_KEY ? slackTokenCipher(config) : undefined;
}
