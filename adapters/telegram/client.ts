/**
 * Telegram's files: `getFile` (through grammY's `Api`, configured in index.ts) turns a message's `file_id` into a
 * path, downloaded from `<apiRoot>/file/bot<token>/<path>`. That URL holds the bot token: it is built here, used
 * once, and never stored or logged; only Telegram's API host (or the configured apiRoot) is ever fetched.
 */
import type { Api } from 'grammy';
import { allowlist, fetchFromHosts } from '../../src/attachments/download.js';

export const TELEGRAM_API_ROOT = 'https://api.telegram.org';

export async function fetchTelegramFile(
  api: Api,
  token: string,
  apiRoot: string | undefined,
  fileId: string,
  signal: AbortSignal,
): Promise<Response> {
  const file = await api.getFile(fileId, signal as Parameters<Api['getFile']>[1]);
  if (!file.file_path) throw new Error('telegram getFile returned no file_path');
  const root = (apiRoot ?? TELEGRAM_API_ROOT).replace(/\/+$/, '');
  const url = `${root}/file/bot${token}/${file.file_path}`;
  return fetchFromHosts(url, allowlist(['api.telegram.org'], apiRoot), { signal });
}
