/**
 * JSON logs with pino. Secrets and message bodies are redacted by default: payloads can carry tokens, and chat
 * content is personal data.
 */
import { pino, type Logger } from 'pino';

export const REDACT_PATHS = [
  '*.token', '*.botToken', '*.appToken', '*.signingSecret', '*.apiKey', '*.password', '*.secret',
  '*.authorization', '*.Authorization', '*["x-api-key"]', '*["x-slack-signature"]', '*["x-telegram-bot-api-secret-token"]',
  'headers.authorization', 'headers.cookie', 'req.headers.authorization', 'req.headers["x-api-key"]',
  '*.text', '*.markdown', '*.raw', '*.response_url', '*.responseUrl',
];

/**
 * The correlation id that ties one message's log lines together across ingress, worker and outbound: the id of
 * the turn's first message (platform-scoped, so unique). Ingress logs each event under its own id; a turn that
 * collected several messages logs under the first one's and lists them all in `eventIds`.
 */
export function correlationId(eventIds: readonly string[]): string | undefined {
  return eventIds[0];
}

export function createLogger(level: string, name = 'gateway'): Logger {
  return pino({
    name,
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { pid: process.pid, role: process.env.ROLE ?? 'all' },
  });
}

/**
 * What an unexpected error may tell the log: its class and code (SQLSTATE, errno), never its message. A driver's
 * message can quote the query's parameters (user text), and a URL can carry ids and tokens.
 */
export function errorSummary(err: unknown): { name: string; code?: string } {
  const e = err as { name?: unknown; code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = e?.code ?? e?.cause?.code;
  return { name: typeof e?.name === 'string' ? e.name : typeof err, ...(typeof code === 'string' || typeof code === 'number' ? { code: String(code) } : {}) };
}
