/**
 * JSON logs with pino. Secrets and message bodies are redacted by default: payloads can carry tokens, and chat
 * content is personal data.
 */
import { trace } from '@opentelemetry/api';
import { pino, type DestinationStream, type Logger } from 'pino';
import { safeErr } from '../core/safe-error.js';

// Lives in core so core code (leases) can log errors without importing outward; re-exported for everyone else.
export { safeErr };

export const REDACT_PATHS = [
  '*.token',
  '*.botToken',
  '*.appToken',
  '*.signingSecret',
  '*.apiKey',
  '*.password',
  '*.secret',
  '*.authorization',
  '*.Authorization',
  '*["x-api-key"]',
  '*["x-slack-signature"]',
  '*["x-telegram-bot-api-secret-token"]',
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  '*.text',
  '*.markdown',
  '*.raw',
  '*.response_url',
  '*.responseUrl',
];

/**
 * The correlation id that ties one message's log lines together across ingress, worker and outbound: the id of
 * the turn's first message (platform-scoped, so unique). Ingress logs each event under its own id; a turn that
 * collected several messages logs under the first one's and lists them all in `eventIds`.
 */
export function correlationId(eventIds: readonly string[]): string | undefined {
  return eventIds[0];
}

/**
 * Log lines written inside a span carry its ids, so an operator goes from a log line to its trace and back. With
 * tracing off there is never an active span and nothing is added.
 */
export function traceFields(): { trace_id?: string; span_id?: string } {
  const sc = trace.getActiveSpan()?.spanContext();
  if (!sc || !trace.isSpanContextValid(sc)) return {};
  return { trace_id: sc.traceId, span_id: sc.spanId };
}

export function createLogger(
  level: string,
  name = 'gateway',
  destination?: DestinationStream,
  // The role the process runs: given on the command line (the image's args) or as ROLE.
  role = process.env.ROLE ?? 'all',
): Logger {
  return pino(
    {
      name,
      level,
      // Also for a call site that passes the error object itself: only its safe fields are written.
      serializers: { err: (e: unknown) => safeErr(e), error: (e: unknown) => safeErr(e) },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      mixin: traceFields,
      base: { pid: process.pid, role },
    },
    destination,
  );
}
