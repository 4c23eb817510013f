/**
 * Redis MONITOR for tests, on a socket of its own. ioredis's `monitor()` marks its connection as monitoring in a
 * promise callback after MONITOR's `+OK`; on a busy server the first monitor lines can arrive in the same read as
 * that `+OK`, find an empty command queue and throw "Command queue state error" as an uncaught exception, which
 * fails the whole test file. Lines are parsed as ioredis parses them (the same `args` and `source`).
 */
import { connect } from 'node:net';

/** One command the server ran: its name and arguments, and who sent it (`host:port`, or `lua` for a script). */
export type MonitorListener = (args: string[], source: string) => void;

export interface RedisMonitor {
  close(): void;
}

export async function monitorRedis(url: string, listener: MonitorListener): Promise<RedisMonitor> {
  const u = new URL(url);
  const socket = connect(Number(u.port || 6379), u.hostname);
  socket.setEncoding('latin1'); // the server escapes what is not printable: one byte, one character
  let pending = '';
  let ready: () => void;
  let failed: (err: Error) => void;
  const monitoring = new Promise<void>((resolve, reject) => {
    ready = resolve;
    failed = reject;
  });
  let oks = u.password ? 2 : 1; // AUTH's +OK first, then MONITOR's
  socket.on('error', (err) => failed(err));
  socket.on('data', (chunk: string) => {
    pending += chunk;
    for (let end = pending.indexOf('\r\n'); end >= 0; end = pending.indexOf('\r\n')) {
      const line = pending.slice(0, end);
      pending = pending.slice(end + 2);
      if (line.startsWith('-')) failed(new Error(`redis monitor: ${line.slice(1)}`));
      else if (oks > 0) {
        if (line === '+OK' && --oks === 0) ready();
      } else {
        // +<time> [<db> <source>] "<name>" "<arg>" ...
        const argsAt = line.indexOf('"');
        const source = line.slice(line.indexOf(' ') + 2, argsAt - 2).split(' ')[1] ?? '';
        listener(
          line
            .slice(argsAt + 1, -1)
            .split('" "')
            .map((a) => a.replace(/\\"/g, '"')),
          source,
        );
      }
    }
  });
  const command = (...args: string[]) =>
    `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
  const user = decodeURIComponent(u.username || 'default');
  socket.write(`${u.password ? command('AUTH', user, decodeURIComponent(u.password)) : ''}${command('MONITOR')}`);
  await monitoring;
  return { close: () => socket.destroy() };
}
