/**
 * The fields of an error that are safe to log: no user text, no secrets, no SQL values. Used by every logger call
 * site through the `err` serializer (src/observability/logger.ts) and directly where an error is logged.
 */
/** Output of safeErr: passed through as is when it meets the `err` serializer again. */
const SAFE_OUT = Symbol('safeErr');

/** Messages of driver and runtime errors known to carry no values (connection states, timeouts, aborts). */
const SAFE_MESSAGES = [
  /^Connection is closed\.$/,
  /^Command timed out$/,
  /^Reached the max retries per request limit/,
  /^Stream isn't writeable/,
  /^fetch failed$/,
  /^(The|This) operation was aborted/,
  /^Request aborted$/,
  /^socket hang up$/,
  /^other side closed$/,
  /^write CONNECT(ION)?_[A-Z_]+ [\w.:[\]-]+$/,
  /^Job lock (mismatch|expired)|^Missing lock for job/,
];
const SAFE_NAMES = new Set([
  'AbortError',
  'TimeoutError',
  'ConnectTimeoutError',
  'HeadersTimeoutError',
  'BodyTimeoutError',
  'SocketError',
  // This codebase's own errors, whose messages name ids and counts, never text.
  'StaleTurnError',
  'IngressError',
  'RateLimitedError',
  'ModelUnavailableError',
  'ConfigError',
  'LostLockError',
]);
const SAFE_CODE = /^[A-Za-z0-9_.:-]{1,64}$/;
const SAFE_WORD = /^[A-Za-z0-9_.$:/ -]{1,120}$/;

function messageIsSafe(e: Record<string | symbol, unknown>, name: string, message: string): boolean {
  if (message.length > 300) return false;
  if (typeof e.syscall === 'string' && typeof e.errno === 'number') return true; // node:net / fs errors: "connect ECONNREFUSED host:port"
  return SAFE_NAMES.has(name) || SAFE_MESSAGES.some((r) => r.test(message));
}

/**
 * The one way an error reaches a log line. Drivers and SDKs put values in their errors (postgres.js: `query`,
 * `parameters`, `detail`, `where`, and messages like `invalid input syntax for type uuid: "..."`; drizzle: the
 * SQL and its params in the message; platform SDKs: the API's description, which can quote the message sent), so
 * only fields known to be safe are kept: the class name, codes, SQLSTATE and the routine that raised it, schema
 * names (constraint, table, column), HTTP status, and the message only when it is known to carry no values.
 */
export function safeErr(err: unknown, depth = 0): Record<string, unknown> | undefined {
  if (err === undefined || err === null) return undefined;
  if (typeof err !== 'object') return { type: typeof err };
  const e = err as Record<string | symbol, unknown>;
  if (e[SAFE_OUT] === true) return e;
  const name = typeof e.name === 'string' && SAFE_CODE.test(e.name) ? e.name : 'Error';
  const out: Record<string, unknown> = { type: name };
  const code = e.code;
  if (typeof code === 'number' || (typeof code === 'string' && SAFE_CODE.test(code))) out.code = code;
  // postgres.js PostgresError: SQLSTATE in `code`; routine and schema names are safe, `detail` / `where` are not.
  for (const [from, to] of [
    ['routine', 'routine'],
    ['constraint_name', 'constraint'],
    ['table_name', 'table'],
    ['column_name', 'column'],
    ['severity', 'severity'],
    ['method', 'method'],
    ['error_code', 'errorCode'],
    ['reason', 'reason'],
    ['syscall', 'syscall'],
  ] as const) {
    const v = e[from];
    if (typeof v === 'number' || (typeof v === 'string' && SAFE_WORD.test(v))) out[to] = v;
  }
  for (const k of ['status', 'statusCode', 'httpStatus', 'retryAfterMs', 'attemptNumber'])
    if (typeof e[k] === 'number') out[k] = e[k];
  // Slack Web API: the error code the platform returned (`data.error`), a fixed word such as `channel_not_found`.
  const data = e.data as { error?: unknown } | undefined;
  if (data && typeof data.error === 'string' && /^[a-z_]{1,60}$/.test(data.error)) out.apiError = data.error;
  const message = typeof e.message === 'string' ? e.message : '';
  const sqlState = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && typeof e.routine === 'string';
  if (message && !sqlState && messageIsSafe(e, name, message)) out.message = message;
  else if (typeof e.stack === 'string' && depth === 0) {
    // Where it was thrown, without the message line: enough for an operator to find the cause.
    const frames = e.stack
      .split('\n')
      .filter((l) => /^\s+at [^\s]/.test(l))
      .slice(0, 4)
      .map((l) => l.trim().slice(3, 200));
    if (frames.length) out.at = frames;
  }
  if (Array.isArray(e.issues))
    out.issues = (e.issues as { code?: unknown; path?: unknown[] }[])
      .slice(0, 5)
      .map(
        (i) =>
          `${(i.path ?? []).filter((p) => typeof p === 'number' || SAFE_CODE.test(String(p))).join('.')}:${String(i.code)}`,
      );
  if (e.cause !== undefined && depth < 3) out.cause = safeErr(e.cause, depth + 1);
  Object.defineProperty(out, SAFE_OUT, { value: true });
  return out;
}
