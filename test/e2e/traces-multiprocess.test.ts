/**
 * A trace per turn across real OS processes: a gateway process and a worker process (the real entry point, as
 * deployed), each exporting OTLP/HTTP to a loopback receiver under its own service name. One message through the
 * local channel must come out as one trace: the webhook's spans from the gateway, the queue wait, turn, model,
 * tool and delivery spans from the worker, every parent link right across the process boundary (the context
 * crosses only through Redis). No exported byte carries the message, the answer or the raw ids; the log lines
 * of both processes name the trace; and the memory extraction the turn scheduled links back to the turn.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../fakes/otlp/receiver.js';
import { roleEnv, spawnRole, type RoleProcess } from '../helpers/processes.js';
import { cleanRedisPrefix, createTestDatabase, uniqueName, type TestDatabase } from '../helpers/services.js';
import { CONSUMER, expectTurnChain, turnSpans } from '../helpers/turn-trace.js';
import { until } from '../helpers/wait.js';

const SENTINEL = 'SENTINEL-91c2-multiprocess-do-not-export';
const QUESTION = 'what time is it, mp-trace?';
const ROOM = 'mp-trace-room-private-id';
const USER = 'mp-trace-user-private-id';

let db: TestDatabase;
let receiver: OtlpReceiver;
const prefix = uniqueName('mptrace');
const procs: RoleProcess[] = [];

beforeAll(async () => {
  [db, receiver] = await Promise.all([createTestDatabase(), startOtlpReceiver()]);
});
afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill('SIGKILL')));
  await receiver?.close();
  await cleanRedisPrefix(prefix);
  await db?.drop();
});

/** The JSON log lines a process wrote (its output also holds anything else it printed). */
function logLines(p: RoleProcess): Record<string, unknown>[] {
  return p
    .output()
    .split('\n')
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

it('one turn is one trace across the gateway and worker processes, without user text, named in both logs', async () => {
  const env = roleEnv(db, prefix, {
    LOG_LEVEL: 'info',
    MEMORY_EXTRACT_DELAY_MS: '100',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_BSP_SCHEDULE_DELAY: '50',
  });
  const [gateway, worker] = await Promise.all([
    spawnRole('gateway', { ...env, OTEL_SERVICE_NAME: 'mp-gateway' }),
    spawnRole('worker', { ...env, OTEL_SERVICE_NAME: 'mp-worker' }),
  ]);
  procs.push(gateway, worker);

  const res = await fetch(`${gateway.url}/local/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ conversation: ROOM, user: USER, text: `${QUESTION} ${SENTINEL}`, wait: true }),
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { id: string; replies: { text: string }[] };
  const answer = body.replies[0]!.text;
  expect(answer).toContain('current_time'); // the offline model called the tool

  // The trace of the request span, once the worker's delivery spans are exported too.
  const spans = await until(
    async () => {
      const root = receiver.spans.find((s) => s.name === 'POST /local/messages');
      return root ? receiver.spans.filter((s) => s.traceId === root.traceId) : [];
    },
    (ss) => ['turn', 'deliver', 'send local'].every((n) => ss.some((s) => s.name === n)),
    30_000,
  );

  const t = turnSpans(spans, 'POST /local/messages', 'local');
  expectTurnChain(t);
  const { http, ingress, turn } = t;
  expect(turn.kind).toBe(CONSUMER);
  // Gateway process: the webhook's server span and the ingress under it; the worker process: everything from the
  // queue on, hanging off the gateway's ingress span (the context crossed only through Redis).
  for (const s of [http, ingress]) expect(s.service, s.name).toBe('mp-gateway');
  const { wait, recall, run, agent, steps, models, tool, deliver, send } = t;
  const workerSpans = [wait, turn, recall, run, agent, ...steps, ...models, tool, deliver, send];
  for (const s of workerSpans) expect(s.service, s.name).toBe('mp-worker');
  expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['mp-gateway', 'mp-worker']));
  expect(turn.attributes).toMatchObject({ platform: 'local', 'turn.outcome': 'replied' });

  // Log lines name the trace, in both processes: the gateway's for the message, the worker's for its turn.
  const inbound = await until(
    async () => logLines(gateway).find((l) => l.msg === 'inbound event' && l.correlationId === body.id),
    (l) => l !== undefined,
    10_000,
  );
  expect(inbound).toMatchObject({ trace_id: http.traceId, span_id: ingress.spanId });
  const committed = await until(
    async () => logLines(worker).find((l) => l.msg === 'turn committed' && l.correlationId === body.id),
    (l) => l !== undefined,
    10_000,
  );
  expect(committed).toMatchObject({ trace_id: turn.traceId, span_id: turn.spanId });

  // The memory extraction the turn scheduled is its own trace, linked to this turn's span.
  const extract = await until(
    async () => receiver.spans.find((s) => s.name === 'memory extract'),
    (s) => s !== undefined,
    30_000,
  );
  expect(extract).toMatchObject({ service: 'mp-worker', parentSpanId: '' });
  expect(extract!.links).toEqual([{ traceId: turn.traceId, spanId: turn.spanId }]);

  // Nothing a user wrote, nor the answer, nor the raw conversation and user ids, left either process as a span.
  const exported = receiver.bodies.join('\n');
  for (const secret of [SENTINEL, QUESTION, answer.slice(0, 30), ROOM, USER]) expect(exported).not.toContain(secret);
  // ...nor reached a log line (the logs carry ids and counts only).
  const logged = gateway.output() + worker.output();
  expect(logged).not.toContain(SENTINEL);
  expect(logged).not.toContain(QUESTION);
}, 120_000);
