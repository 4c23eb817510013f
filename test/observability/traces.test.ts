/**
 * A trace per turn: a message sent through a real ingress (the local channel's HTTP route, and Slack's signed
 * webhook through the real adapter and the fake Slack) reaches an OTLP/HTTP receiver on loopback as one connected
 * trace: HTTP request -> ingress -> queue wait and turn -> memory recall, the agent (from the Agents SDK's own
 * spans, bridged) -> model call and tool call -> delivery -> the send to the platform. No span carries the
 * message's text, the answer or the raw conversation ids, and log lines written in the turn carry its trace id.
 * The context crosses processes only through Redis (the inbox entry, the turn's delivery key): a gateway app and a
 * worker app that share nothing else still produce one trace.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../fakes/otlp/receiver.js';
import { startHttpMcpServer, type HttpMcpServer } from '../fakes/mcp/server.js';
import { FakeSlack } from '../fakes/slack/fake-slack.js';
import { appMention, BOT, envelope, nextSlackTs, postSigned } from '../fakes/slack/requests.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { expectTurnChain, one, turnSpans } from '../helpers/turn-trace.js';
import { cleanRedisPrefix, createTestDatabase, uniqueName } from '../helpers/services.js';
import { until } from '../helpers/wait.js';

const SECRET = 'traces-signing-secret-0123';
const SENTINEL = 'SENTINEL-7f3a-do-not-export';

let receiver: OtlpReceiver;
let fake: FakeSlack;
let mcp: HttpMcpServer;
let dir: string;
let app: TestApp;
const logLines: Record<string, unknown>[] = [];

/** The default agent answers everywhere but in the local `mcp-room`, where one with an MCP server does. */
function agentsFile(): string {
  mkdirSync('test-artifacts', { recursive: true });
  dir = mkdtempSync(resolve('test-artifacts', 'traces-'));
  const file = resolve(dir, 'agents.yaml');
  const remote = { name: 'remote-tools', transport: 'http', url: mcp.url, allow: ['shout'] };
  const agents = {
    agents: [
      { name: 'Assistant', instructions: 'You are helpful.' },
      { name: 'toolsmith', instructions: 'You use tools.', mcpServers: [remote] },
    ],
    routes: [{ platform: 'local', channel: 'mcp-room', agent: 'toolsmith' }],
    default: 'Assistant',
  };
  writeFileSync(file, JSON.stringify(agents)); // JSON is YAML
  return file;
}

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  mcp = await startHttpMcpServer();
  fake = await new FakeSlack({ botUserId: BOT }).start();
  const log = createLogger('info', 'traces-test', { write: (l: string) => void logLines.push(JSON.parse(l)) });
  app = await startTestApp({
    log,
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_SERVICE_NAME: 'gateway-under-test',
      OTEL_BSP_SCHEDULE_DELAY: '50',
      AGENTS_FILE: agentsFile(),
      RATE_LIMIT_PER_MINUTE: '0',
      MEMORY_EXTRACT_DELAY_MS: '100',
      SLACK_BOT_TOKEN: 'xoxb-traces',
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_API_URL: fake.apiUrl,
      SLACK_BOT_USER_ID: BOT,
    },
  });
}, 60_000);

afterAll(async () => {
  await app?.close();
  await fake?.close();
  await receiver?.close();
  await mcp?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The spans of the trace of the first request span named `rootName`, once its delivery is exported. */
async function traceOf(rootName: string, platform: string): Promise<ReceivedSpan[]> {
  const spans = await until(
    async () => {
      const root = receiver.spans.find((s) => s.name === rootName);
      return root ? receiver.spans.filter((s) => s.traceId === root.traceId) : [];
    },
    // The delivery span ends last (the HTTP span of a webhook ends at its ack, long before).
    (ss) => ['turn', 'deliver', `send ${platform}`].every((n) => ss.some((s) => s.name === n)),
    30_000,
  );
  return spans;
}

/** The parent chain every turn's trace has, whatever the ingress, and what the in-process app adds to it. */
function expectTurnShape(spans: ReceivedSpan[], rootName: string, platform: string): void {
  const t = turnSpans(spans, rootName, platform);
  expectTurnChain(t);
  const { turn, models, send } = t;
  expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['gateway-under-test']));
  expect(turn.attributes).toMatchObject({
    platform,
    'turn.outcome': 'replied',
    'gen_ai.agent.name': 'Assistant',
    'gen_ai.request.model': 'offline',
  });
  expect(turn.attributes['conversation.hash']).toMatch(/^[0-9a-f]{16}$/);
  expect(Number(turn.attributes['gen_ai.usage.input_tokens'])).toBeGreaterThan(0);
  expect(Number(models[0]!.attributes['gen_ai.usage.output_tokens'])).toBeGreaterThanOrEqual(0);
  expect(send.attributes).toMatchObject({ platform, 'part.index': 0 });
}

describe('a trace per turn', () => {
  it('local channel: one connected trace from the HTTP request to the delivered part, without user text', async () => {
    const res = await app.post('/local/messages', {
      conversation: 'trace-room-private-id',
      user: 'trace-user-private-id',
      text: `what time is it? ${SENTINEL}`,
      wait: true,
    });
    expect(res.status).toBe(200);
    expect(res.body.replies[0].text).toContain('current_time');
    const spans = await traceOf('POST /local/messages', 'local');
    expectTurnShape(spans, 'POST /local/messages', 'local');

    // Logs and traces join: the turn's log line names the trace.
    const turnSpan = one(spans, 'turn');
    const committed = logLines.find((l) => l.msg === 'turn committed' && l.correlationId === res.body.id);
    expect(committed?.trace_id).toBe(turnSpan.traceId);

    const exported = receiver.bodies.join('\n');
    expect(exported).not.toContain(SENTINEL);
    expect(exported).not.toContain('what time is it');
    expect(exported).not.toContain(String(res.body.replies[0].text).slice(0, 30)); // the answer
    expect(exported).not.toContain('trace-room-private-id');
    expect(exported).not.toContain('trace-user-private-id');
  }, 60_000);

  it('memory extraction, debounced over turns, is a trace of its own, linked to the turn that caused it', async () => {
    const res = await app.post('/local/messages', {
      conversation: 'trace-memory-room',
      user: 'trace-memory-user',
      text: `my favourite colour is teal ${SENTINEL}`,
      wait: true,
    });
    expect(res.status).toBe(200);
    // The turn's own span, found through its log line (which names the trace) and the exported spans.
    const committed = logLines.find((l) => l.msg === 'turn committed' && l.correlationId === res.body.id);
    const turnSpan = await until(
      async () => receiver.spans.find((s) => s.name === 'turn' && s.traceId === committed?.trace_id),
      (s) => s !== undefined,
      30_000,
    );
    const extract = await until(
      async () =>
        receiver.spans.find((s) => s.name === 'memory extract' && s.links.some((l) => l.traceId === turnSpan!.traceId)),
      (s) => s !== undefined,
      30_000,
    );
    // Its own trace (a root span), with a link to exactly the turn span, not to some other span of that trace.
    expect(extract!.parentSpanId).toBe('');
    expect(extract!.traceId).not.toBe(turnSpan!.traceId);
    expect(extract!.links).toEqual([{ traceId: turnSpan!.traceId, spanId: turnSpan!.spanId }]);
    // No QDRANT_URL in this app: memories live in Postgres.
    expect(extract!.attributes['memory.store']).toBe('postgres');
    expect(receiver.bodies.join('\n')).not.toContain(SENTINEL);
  }, 60_000);

  it('Slack: the signed webhook, the turn and the chat.postMessage call are one trace', async () => {
    const channel = 'C0TRACES1';
    const text = `<@${BOT}> what time is it? ${SENTINEL}`;
    const body = envelope(appMention({ channel, ts: nextSlackTs(), text }));
    const res = await postSigned(`${app.url}/slack/events`, SECRET, body);
    expect(res.status).toBe(200);
    const posted = await until(
      async () => fake.posted(channel),
      (p) => p.length >= 1,
      30_000,
    );
    expect(String(posted[0]!.body.text)).toContain('current_time');
    const spans = await traceOf('POST /slack/events', 'slack');
    expectTurnShape(spans, 'POST /slack/events', 'slack');
    // The tenant is the workspace the event came from.
    expect(body.team_id).toMatch(/^T/);
    expect(one(spans, 'turn').attributes.tenant).toBe(body.team_id);
    expect(receiver.bodies.join('\n')).not.toContain(SENTINEL);
  }, 60_000);

  it('an MCP tool call is a span of the turn, named by tool and server, without its arguments or result', async () => {
    const res = await app.post('/local/messages', {
      conversation: 'mcp-room',
      user: 'mcp-user',
      text: `[[tool:shout {"text":"${SENTINEL}"}]]`,
      wait: true,
    });
    expect(res.status).toBe(200);
    expect(res.body.replies[0].text).toBe(`Tool shout said: ${SENTINEL.toUpperCase()}!`);
    const spans = await until(
      async () => {
        const turn = receiver.spans.find((s) => s.name === 'turn' && s.attributes['gen_ai.agent.name'] === 'toolsmith');
        return turn ? receiver.spans.filter((s) => s.traceId === turn.traceId) : [];
      },
      (ss) => ss.some((s) => s.name === 'send local'),
      30_000,
    );
    const agent = one(spans, 'invoke_agent toolsmith');
    const tool = one(spans, 'execute_tool shout');
    expect(tool.attributes).toMatchObject({ 'gen_ai.tool.name': 'shout', 'mcp.server': 'remote-tools' });
    const step = spans.find((s) => s.spanId === tool.parentSpanId);
    expect(step?.parentSpanId).toBe(agent.spanId);
    const exported = receiver.bodies.join('\n');
    expect(exported).not.toContain(SENTINEL);
    expect(exported).not.toContain(SENTINEL.toUpperCase());
  }, 60_000);

  it('a request carrying a W3C traceparent continues the caller trace; a malformed one starts a new trace', async () => {
    const post = (conversation: string, traceparent: string) =>
      fetch(`${app.url}/local/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', traceparent },
        body: JSON.stringify({ conversation, user: 'caller-user', text: 'what time is it?', wait: true }),
      });
    const traceId = randomBytes(16).toString('hex');
    const callerSpan = randomBytes(8).toString('hex');
    expect((await post('caller-room', `00-${traceId}-${callerSpan}-01`)).status).toBe(200);
    const spans = await until(
      async () => receiver.spans.filter((s) => s.traceId === traceId),
      (ss) => ['turn', 'deliver', 'send local'].every((n) => ss.some((s) => s.name === n)),
      30_000,
    );
    // The whole turn, worker side included, is in the caller's trace, under the caller's span.
    expect(one(spans, 'POST /local/messages').parentSpanId).toBe(callerSpan);
    expect(one(spans, 'turn').parentSpanId).toBe(one(spans, 'ingress local').spanId);

    // Version ff is invalid: the request starts a trace of its own, as if it had no header.
    const badTrace = randomBytes(16).toString('hex');
    const res = await post('caller-room-2', `ff-${badTrace}-${callerSpan}-01`);
    expect(res.status).toBe(200);
    const { id } = (await res.json()) as { id: string };
    const committed = await until(
      async () => logLines.find((l) => l.msg === 'turn committed' && l.correlationId === id),
      (l) => l !== undefined,
      10_000,
    );
    const own = await until(
      async () => receiver.spans.filter((s) => s.traceId === committed?.trace_id),
      (ss) => ss.some((s) => s.name === 'POST /local/messages'),
      30_000,
    );
    expect(one(own, 'POST /local/messages').parentSpanId).toBe('');
    expect(committed?.trace_id).not.toBe(badTrace);
    expect(receiver.spans.some((s) => s.traceId === badTrace)).toBe(false);
  }, 60_000);

  it('a gateway and a worker as separate apps (sharing only Redis and Postgres) still make one trace', async () => {
    const env = {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '50',
      KEY_PREFIX: uniqueName('tsplit'),
      RATE_LIMIT_PER_MINUTE: '0',
    };
    const db = await createTestDatabase();
    const gateway = await startTestApp({ role: 'gateway', env, db });
    const worker = await startTestApp({ role: 'worker', env, db });
    try {
      const before = new Set(receiver.spans.filter((s) => s.name === 'POST /local/messages').map((s) => s.spanId));
      const res = await gateway.post('/local/messages', {
        conversation: 'split-room',
        user: 'split-user',
        text: `what time is it? ${SENTINEL}`,
        wait: true,
      });
      expect(res.status).toBe(200);
      const spans = await until(
        async () => {
          const root = receiver.spans.find((s) => s.name === 'POST /local/messages' && !before.has(s.spanId));
          return root ? receiver.spans.filter((s) => s.traceId === root.traceId) : [];
        },
        (ss) => ['turn', 'deliver', 'send local'].every((n) => ss.some((s) => s.name === n)),
        30_000,
      );
      expectTurnShape(spans, 'POST /local/messages', 'local');
      expect(receiver.bodies.join('\n')).not.toContain(SENTINEL);
    } finally {
      await gateway.close();
      await worker.close();
      await cleanRedisPrefix(env.KEY_PREFIX);
      await db.drop();
    }
  }, 90_000);
});
