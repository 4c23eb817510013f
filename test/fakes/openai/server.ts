/**
 * A loopback OpenAI-compatible model server with a realistic pace: Chat Completions and Responses, streamed (SSE)
 * and not. Each answer takes `ttftMs` before its first token, then `answerTokens` tokens at `tokensPerSec`, so
 * the gateway can be measured against a 2 s model through the REAL OpenAI provider path of the Agents SDK
 * (OPENAI_BASE_URL = `url`, any API key) instead of the zero-latency offline model.
 *
 * The answer is `Echo: <last user text>` padded with filler words to `answerTokens` words (one word = one token).
 * Every served request is recorded with its start and end (performance.now() of this process) and its last user
 * text, so a benchmark can subtract the model's own time from a turn's end-to-end latency.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';

export interface ModelPace {
  /** Time to first token. */
  ttftMs: number;
  tokensPerSec: number;
  /** Tokens (words) in every answer. */
  answerTokens: number;
  /** Tokens per streamed event: 1 is what providers do; more keeps a big benchmark's own CPU low. */
  tokensPerChunk?: number;
}

export interface ServedRequest {
  api: 'chat_completions' | 'responses';
  stream: boolean;
  startedAt: number;
  endedAt: number;
  /** Text of the last user message, as received. */
  lastUserText: string;
}

export interface FakeOpenAI {
  /** Base URL to hand the OpenAI client (ends in /v1). */
  url: string;
  pace: ModelPace;
  /** The model's own time for one answer: ttft + tokens / rate. */
  modelMs: number;
  served: ServedRequest[];
  /** Called as each answer ends (a benchmark keeps its own index instead of scanning `served`). */
  onServed?: (r: ServedRequest) => void;
  /** `/audio/transcriptions` calls: the model named, and the audio file received. */
  transcriptions: { model: string; fileName: string; bytes: number }[];
  /** What `/audio/transcriptions` answers (default: a sentence naming the audio's size). */
  transcript?: string;
  /** Requests being answered right now, and the most at once. */
  inFlight(): { now: number; max: number };
  close(): Promise<void>;
}

// What the fake reads from a request; everything else (tools, instructions, settings) is accepted and ignored.
const contentSchema = z.union([z.string(), z.array(z.object({ text: z.string().optional() }).passthrough()), z.null()]);
const messageSchema = z.object({ role: z.string(), content: contentSchema.optional() }).passthrough();
const chatSchema = z
  .object({ model: z.string(), messages: z.array(messageSchema), stream: z.boolean().nullish() })
  .passthrough();
const responsesSchema = z
  .object({
    model: z.string(),
    input: z.union([z.string(), z.array(z.object({}).passthrough())]),
    stream: z.boolean().nullish(),
  })
  .passthrough();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const textOf = (c: z.infer<typeof contentSchema> | undefined) =>
  typeof c === 'string' ? c : Array.isArray(c) ? c.map((p) => p.text ?? '').join('') : '';

function lastUser(items: unknown[]): string {
  const users = items.map((i) => messageSchema.safeParse(i)).filter((p) => p.success && p.data.role === 'user');
  const last = users.at(-1);
  return last?.success ? textOf(last.data.content) : '';
}

/** The answer's tokens: the echo first, filler after, exactly `n` words. */
function answerWords(userText: string, n: number): string[] {
  const echo = `Echo: ${userText.replace(/\s+/g, ' ').trim()}`.split(' ');
  const words = echo.slice(0, n);
  for (let i = words.length; i < n; i++) words.push(`w${i}`);
  return words.map((w, i) => (i ? ` ${w}` : w));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
}

function sse(res: ServerResponse): (data: unknown, event?: string) => void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  return (data, event) => res.write(`${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(data)}\n\n`);
}

export async function startFakeOpenAI(pace: ModelPace, port = 0): Promise<FakeOpenAI> {
  const perChunk = Math.max(1, pace.tokensPerChunk ?? 1);
  const tokenMs = 1000 / pace.tokensPerSec;
  const modelMs = pace.ttftMs + pace.answerTokens * tokenMs;
  let now = 0;
  let max = 0;
  let seq = 0;

  /** Emits the answer at the configured pace: ttft, then one chunk of words per `perChunk * tokenMs`. */
  async function paced(words: string[], emit: (text: string) => void): Promise<void> {
    await sleep(pace.ttftMs);
    const t0 = performance.now();
    for (let i = 0; i < words.length; i += perChunk) {
      const due = t0 + i * tokenMs;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      emit(words.slice(i, i + perChunk).join(''));
    }
    const end = t0 + words.length * tokenMs - performance.now();
    if (end > 1) await sleep(end);
  }

  const usage = (input: number, output: number) => ({ input, output });

  async function chat(body: z.infer<typeof chatSchema>, res: ServerResponse, rec: ServedRequest) {
    const id = `chatcmpl-${++seq}`;
    const created = Math.floor(Date.now() / 1000);
    const words = answerWords(rec.lastUserText, pace.answerTokens);
    const u = usage(Math.ceil(JSON.stringify(body.messages).length / 4), words.length);
    const tokens = { prompt_tokens: u.input, completion_tokens: u.output, total_tokens: u.input + u.output };
    if (!rec.stream) {
      await paced(words, () => undefined);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id,
          object: 'chat.completion',
          created,
          model: body.model,
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: words.join(''), refusal: null },
              finish_reason: 'stop',
              logprobs: null,
            },
          ],
          usage: tokens,
        }),
      );
      return;
    }
    const send = sse(res);
    const chunk = (delta: object, finish: string | null) => ({
      id,
      object: 'chat.completion.chunk',
      created,
      model: body.model,
      choices: [{ index: 0, delta, finish_reason: finish }],
    });
    let first = true;
    await paced(words, (text) => {
      send(chunk(first ? { role: 'assistant', content: text } : { content: text }, null));
      first = false;
    });
    send(chunk({}, 'stop'));
    send({ id, object: 'chat.completion.chunk', created, model: body.model, choices: [], usage: tokens });
    res.end('data: [DONE]\n\n');
  }

  async function responses(body: z.infer<typeof responsesSchema>, res: ServerResponse, rec: ServedRequest) {
    const id = `resp_${++seq}`;
    const msgId = `msg_${seq}`;
    const words = answerWords(rec.lastUserText, pace.answerTokens);
    const u = usage(Math.ceil(JSON.stringify(body.input).length / 4), words.length);
    const response = (status: string, text: string | null) => ({
      id,
      object: 'response',
      created_at: Math.floor(Date.now() / 1000),
      model: body.model,
      status,
      error: null,
      incomplete_details: null,
      instructions: null,
      metadata: {},
      parallel_tool_calls: true,
      temperature: 1,
      top_p: 1,
      tool_choice: 'auto',
      tools: [],
      output:
        text === null
          ? []
          : [
              {
                type: 'message',
                id: msgId,
                status: 'completed',
                role: 'assistant',
                content: [{ type: 'output_text', text, annotations: [] }],
              },
            ],
      usage:
        text === null
          ? null
          : {
              input_tokens: u.input,
              output_tokens: u.output,
              total_tokens: u.input + u.output,
              input_tokens_details: { cached_tokens: 0 },
              output_tokens_details: { reasoning_tokens: 0 },
            },
    });
    if (!rec.stream) {
      await paced(words, () => undefined);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(response('completed', words.join(''))));
      return;
    }
    const send = sse(res);
    let n = 0;
    const ev = (type: string, rest: object) => send({ type, sequence_number: n++, ...rest }, type);
    ev('response.created', { response: response('in_progress', null) });
    ev('response.in_progress', { response: response('in_progress', null) });
    ev('response.output_item.added', {
      output_index: 0,
      item: { type: 'message', id: msgId, status: 'in_progress', role: 'assistant', content: [] },
    });
    ev('response.content_part.added', {
      item_id: msgId,
      output_index: 0,
      content_index: 0,
      part: { type: 'output_text', text: '', annotations: [] },
    });
    await paced(words, (delta) =>
      ev('response.output_text.delta', { item_id: msgId, output_index: 0, content_index: 0, delta, logprobs: [] }),
    );
    const text = words.join('');
    ev('response.output_text.done', { item_id: msgId, output_index: 0, content_index: 0, text, logprobs: [] });
    ev('response.content_part.done', {
      item_id: msgId,
      output_index: 0,
      content_index: 0,
      part: { type: 'output_text', text, annotations: [] },
    });
    ev('response.output_item.done', {
      output_index: 0,
      item: {
        type: 'message',
        id: msgId,
        status: 'completed',
        role: 'assistant',
        content: [{ type: 'output_text', text, annotations: [] }],
      },
    });
    ev('response.completed', { response: response('completed', text) });
    res.end();
  }

  const fake: FakeOpenAI = {
    url: '',
    pace,
    modelMs,
    served: [],
    transcriptions: [],
    inFlight: () => ({ now, max }),
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };

  /** OpenAI-compatible speech to text: a multipart form with `file` and `model`, answered `{ text }`. */
  async function transcription(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const form = await new Request('http://fake/', {
      method: 'POST',
      headers: { 'content-type': String(req.headers['content-type'] ?? '') },
      body: Buffer.concat(chunks),
    }).formData();
    const file = form.get('file');
    const model = form.get('model');
    if (!(file instanceof Blob) || typeof model !== 'string') {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"message":"file and model required"}}');
      return;
    }
    const bytes = (await file.arrayBuffer()).byteLength;
    fake.transcriptions.push({ model, fileName: (file as File).name, bytes });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ text: fake.transcript ?? `I heard ${bytes} bytes of speech` }));
  }

  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'POST' && path === '/v1/audio/transcriptions') {
      transcription(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(400);
        res.end();
      });
      return;
    }
    const api = path === '/v1/chat/completions' ? 'chat_completions' : path === '/v1/responses' ? 'responses' : null;
    if (req.method !== 'POST' || !api) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
      return;
    }
    now++;
    max = Math.max(max, now);
    const startedAt = performance.now();
    void (async () => {
      try {
        const raw = await readJson(req);
        if (api === 'chat_completions') {
          const body = chatSchema.parse(raw);
          const rec = {
            api,
            stream: !!body.stream,
            startedAt,
            endedAt: 0,
            lastUserText: lastUser(body.messages),
          } as const;
          await chat(body, res, { ...rec });
          record({ ...rec, endedAt: performance.now() });
        } else {
          const body = responsesSchema.parse(raw);
          const input = typeof body.input === 'string' ? [{ role: 'user', content: body.input }] : body.input;
          const rec = { api, stream: !!body.stream, startedAt, endedAt: 0, lastUserText: lastUser(input) } as const;
          await responses(body, res, { ...rec });
          record({ ...rec, endedAt: performance.now() });
        }
      } catch (err) {
        if (!res.headersSent) res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `bad request: ${(err as Error).name}` } }));
      } finally {
        now--;
      }
    })();
  });
  const record = (r: ServedRequest) => {
    fake.served.push(r);
    fake.onServed?.(r);
  };
  // Many simultaneous turns hold one connection each for the whole answer.
  server.maxConnections = 100_000;
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return fake;
}
