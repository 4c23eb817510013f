/**
 * What a newcomer does, end to end: clone the repository into a fresh private (0700) directory, `npm run dev` with
 * nothing configured (its own embedded Postgres and redis-server, no env beyond PATH and HOME), then chat from the
 * terminal client (`npm run chat` on stdin, two exchanges) and from the web chat in headless Chromium, with a curl
 * long-poll open the whole time, and run `npm run api-keys -- list` next to the running gateway.
 *
 * The clone takes only tracked files of the commit under test (HEAD); node_modules is a hard-link copy of this
 * checkout's, so no network install is needed and the binaries sit inside the private directory as after
 * `npm install`. Every process runs in its own process group and is killed with it in afterAll.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDevRecord } from '../../src/cli/dev-record.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const DIR_MODE = 0o700;
const ENV = { PATH: process.env.PATH!, HOME: process.env.HOME! };

interface Proc {
  child: ChildProcess;
  out(): string;
}

const procs: Proc[] = [];

function start(cmd: string, args: string[], cwd: string, stdin: 'pipe' | 'ignore' = 'ignore'): Proc {
  const child = spawn(cmd, args, { cwd, env: ENV, detached: true, stdio: [stdin, 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const p = { child, out: () => out };
  procs.push(p);
  return p;
}

async function waitOutput(p: Proc, re: RegExp, what: string, ms: number, from = 0): Promise<RegExpExecArray> {
  const deadline = Date.now() + ms;
  for (;;) {
    const m = re.exec(p.out().slice(from));
    if (m) return m;
    if (p.child.exitCode !== null || Date.now() > deadline) {
      throw new Error(
        `${what}: not seen (${p.child.exitCode !== null ? `exited ${p.child.exitCode}` : `after ${ms} ms`}). Output:\n${p.out().slice(-4_000)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * SIGTERM to `pid` (npm does not pass it on to the script, so for the gateway it is the pid the dev process
 * records; it stops its redis-server and Postgres itself, in order), then SIGKILL to the whole group if anything
 * of it is left after 15 s; returns once all are gone. Not SIGTERM to the group: the spawned redis-server would
 * die before the gateway drains, and the gateway would wait for it until its forced exit.
 */
async function killGroup(p: Proc, pid = p.child.pid): Promise<void> {
  const pgid = p.child.pid;
  if (!pgid || !groupAlive(pgid)) return;
  try {
    process.kill(pid ?? pgid, 'SIGTERM');
  } catch {
    /* already gone; the rest of its group is handled below */
  }
  const deadline = Date.now() + 15_000;
  while (groupAlive(pgid)) {
    if (Date.now() > deadline) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        /* gone meanwhile */
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer().once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

describe('first contact: clone, npm run dev, chat from the terminal and the browser', () => {
  let root: string;
  let repo: string;
  let dev: Proc;
  let url: string;
  let browser: Browser | undefined;
  const conversation = `terminal-${userInfo().username}`.replace(/[^\w.:@-]/g, '_');
  const stopPolling = new AbortController();
  const seenByLongPoll: string[] = [];
  let longPollErrors = 0;
  let longPolls = 0;

  beforeAll(async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is needed for this test`).toBe(true);
    // `npm run dev` with nothing configured listens on 8080, as a newcomer's would.
    expect(await portFree(8080), 'port 8080 must be free for `npm run dev` with nothing configured').toBe(true);
    root = await mkdtemp(path.join(tmpdir(), 'gw-first-contact-'));
    await chmod(root, DIR_MODE);
    repo = path.join(root, 'chat-gateway');
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    execFileSync('git', ['clone', '-q', '--no-checkout', path.resolve('.'), repo]);
    execFileSync('git', ['checkout', '-q', head], { cwd: repo });
    execFileSync('cp', ['-al', realpathSync('node_modules'), path.join(repo, 'node_modules')]);

    dev = start('npm', ['run', 'dev'], repo);
    const hint = await waitOutput(
      dev,
      /GATEWAY_URL=(http:\/\/\S+) npm run chat/,
      'the chat hints of npm run dev',
      75_000,
    );
    url = hint[1]!;
  }, 120_000);

  /** As root the clone's database lives in the default runtime dir, keyed by the clone: remove this clone's. */
  async function removeRelocatedData(clonesUnder: string): Promise<void> {
    const home = '/var/lib/chat-gateway/data';
    for (const d of await readdir(home).catch(() => [] as string[])) {
      const source = await readFile(path.join(home, d, 'SOURCE'), 'utf8').catch(() => '');
      if (source.startsWith(realpathSync.native(tmpdir()) + '/') && source.includes(path.basename(clonesUnder))) {
        await rm(path.join(home, d), { recursive: true, force: true });
      }
    }
  }

  afterAll(async () => {
    stopPolling.abort();
    await browser?.close().catch(() => undefined);
    const gateway = repo ? await readDevRecord(path.join(repo, '.data')) : null;
    for (const p of [...procs].reverse()) await killGroup(p, p === dev ? gateway?.pid : undefined);
    // The dev redis-server runs in its own process group (so Ctrl-C reaches only the gateway): stop it by its pid
    // file if the gateway could not stop it itself.
    const redisPid = repo
      ? Number(await readFile(path.join(repo, '.data', 'redis', 'child.pid'), 'utf8').catch(() => ''))
      : 0;
    if (redisPid) {
      try {
        process.kill(redisPid, 'SIGKILL');
      } catch {
        /* stopped by the gateway */
      }
    }
    if (root) await rm(root, { recursive: true, force: true });
    if (root) await removeRelocatedData(root);
  }, 90_000);

  it('answers in the terminal client and the web chat, with long-polls open, and the key commands work', async () => {
    // A curl long-poll on a quiet conversation, open for the whole test ...
    const curl = start(
      'curl',
      [
        '-s',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        `${url}/local/conversations/curl-idle/messages?after=$&waitMs=60000`,
      ],
      root,
    );
    // ... and one following the terminal conversation, as a second viewer would.
    void (async () => {
      let after = '$';
      while (!stopPolling.signal.aborted) {
        try {
          longPolls++;
          const res = await fetch(`${url}/local/conversations/${conversation}/messages?after=${after}&waitMs=20000`, {
            signal: stopPolling.signal,
          });
          const body = (await res.json()) as { replies?: { id: string; text: string }[] };
          if (!res.ok) longPollErrors++;
          for (const r of body.replies ?? []) (after = r.id), seenByLongPoll.push(r.text);
        } catch {
          if (!stopPolling.signal.aborted) longPollErrors++;
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    })();

    // The terminal client, driven on stdin.
    const chat = start('npm', ['run', 'chat'], repo, 'pipe');
    await waitOutput(
      chat,
      /Connected to http:\/\/\S+ as "[^"]+" in conversation/,
      'the terminal client connecting',
      30_000,
    );
    let mark = chat.out().length;
    chat.child.stdin!.write('hello from the terminal\n');
    await waitOutput(chat, /bot> Echo: .*hello from the terminal/, 'the echo of the first message', 30_000, mark);
    mark = chat.out().length;
    chat.child.stdin!.write('what time is it?\n');
    await waitOutput(
      chat,
      /bot> The current time is .+\(from the current_time tool\)/,
      'the answer to "what time is it?"',
      30_000,
      mark,
    );
    expect(chat.out()).not.toContain('(error');
    expect(seenByLongPoll.some((t) => /hello from the terminal/.test(t))).toBe(true);

    // The key commands, while the gateway holds the embedded database.
    const keys = start('npm', ['run', 'api-keys', '--', 'list'], repo);
    const code = await new Promise<number | null>((r) => keys.child.once('exit', r));
    expect(code, keys.out()).toBe(0);
    expect(keys.out()).toMatch(/active .* development \(web chat\)/);

    // The web chat: no key to paste in development.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    const page = await browser.newPage();
    await page.goto(`${url}/chat`);
    await page.fill('#input', 'hello from the browser');
    await page.press('#input', 'Enter');
    await expect
      .poll(
        () =>
          page
            .locator('.msg-ai')
            .last()
            .textContent()
            .catch(() => ''),
        { timeout: 30_000 },
      )
      .toMatch(/Echo: .*hello from the browser/);
    expect(await page.locator('#key-overlay').isVisible()).toBe(false);
    expect(await page.locator('#status').textContent()).toBe('');

    // The curl long-poll was open all along, and nothing the long-polls asked for failed.
    // (it ends by itself after its waitMs, 60 s, answering 200 with nothing.)
    expect(curl.child.exitCode === null || curl.out() === '200', curl.out()).toBe(true);
    expect(longPollErrors).toBe(0);
    expect(longPolls).toBeGreaterThan(0);
    expect(dev.out()).not.toMatch(/"level":(50|60)/);

    // Ctrl-C with the web chat tab and the long-polls still open: the terminal signals the whole foreground group
    // (npm, the gateway, and whatever shares its group); the gateway stops promptly, with its services.
    const stopAsked = Date.now();
    process.kill(-dev.child.pid!, 'SIGINT');
    // The whole group gone, not only npm: npm can exit while the gateway still stops its services and removes
    // their pid files.
    await expect.poll(() => !groupAlive(dev.child.pid!), { timeout: 15_000, interval: 100 }).toBe(true);
    expect(Date.now() - stopAsked).toBeLessThan(10_000);
    expect(await readFile(path.join(repo, '.data', 'redis', 'child.pid'), 'utf8').catch(() => 'gone')).toBe('gone');
  }, 120_000);
});
