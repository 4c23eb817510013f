/**
 * `npm run chat`: a terminal client for the local channel. Sends what you type to POST /local/messages and prints
 * the bot's replies as they land (long-polling GET /local/conversations/:c/messages).
 * GATEWAY_URL (default: the `npm run dev` running on DATA_DIR, else http://127.0.0.1:8080), CHAT_CONVERSATION,
 * CHAT_USER, LOCAL_API_KEY. The terminal is a direct conversation with the bot (kind "dm"). With stdin piped
 * (`printf 'hi\n' | npm run chat`) each line waits for its answer before the next, so a script sees every reply.
 */
import { userInfo } from 'node:os';
import readline from 'node:readline/promises';
import { readDevRecord } from './dev-record.js';

const dev = process.env.GATEWAY_URL || process.env.PORT ? null : await readDevRecord(process.env.DATA_DIR ?? '.data');
const base = (process.env.GATEWAY_URL ?? dev?.url ?? `http://127.0.0.1:${process.env.PORT ?? 8080}`).replace(/\/$/, '');
const user = process.env.CHAT_USER ?? userInfo().username;
const conversation = process.env.CHAT_CONVERSATION ?? `terminal-${user}`.replace(/[^\w.:@-]/g, '_');
const headers: Record<string, string> = { 'content-type': 'application/json' };
if (process.env.LOCAL_API_KEY) headers['x-api-key'] = process.env.LOCAL_API_KEY;

async function poll(after: string, waitMs: number): Promise<{ id: string; text: string }[]> {
  const res = await fetch(
    `${base}/local/conversations/${encodeURIComponent(conversation)}/messages?after=${after}&waitMs=${waitMs}`,
    { headers },
  );
  if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
  return ((await res.json()) as { replies: { id: string; text: string }[] }).replies;
}

async function main(): Promise<void> {
  let last = '0';
  try {
    const history = await poll('0', 0);
    last = history.at(-1)?.id ?? '0';
  } catch (err) {
    console.error(`cannot reach the gateway at ${base}: ${(err as Error).message}\nStart it with: npm run dev`);
    process.exit(1);
  }
  console.log(
    `Connected to ${base} as "${user}" in conversation "${conversation}". Type a message; /help for commands; Ctrl-D to quit.`,
  );
  const scripted = !process.stdin.isTTY;
  const rl = readline.createInterface({
    input: process.stdin,
    output: process.stdout,
    prompt: scripted ? '' : 'you> ',
  });
  const show = (text: string) =>
    process.stdout.write(`${scripted ? '' : '\r\x1b[K'}bot> ${text.replace(/\n/g, '\n     ')}\n`);
  let closed = scripted; // a script reads each answer from its own request, not from the long-poll
  void (async () => {
    while (!closed) {
      try {
        for (const r of await poll(last, 20_000)) {
          last = r.id;
          show(r.text);
          rl.prompt(true);
        }
      } catch {
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  })();
  rl.prompt();
  for await (const line of rl) {
    const text = line.trim();
    if (text) {
      const body = JSON.stringify({ conversation, user, text, kind: 'dm', wait: scripted });
      const res = await fetch(`${base}/local/messages`, { method: 'POST', headers, body });
      const answer = (await res.json()) as { error?: string; replies?: { text: string }[] };
      if (!res.ok) console.log(`(error ${res.status}: ${answer.error})`);
      for (const r of answer.replies ?? []) show(r.text); // command answers; with a script, the answer itself
    }
    rl.prompt();
  }
  closed = true;
  process.exit(0);
}

void main();
