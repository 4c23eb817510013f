/**
 * One write per socket per tick. A worker with hundreds of turns in flight issues its Redis commands in bursts: the
 * replies of one read resolve many promises in the same microtask drain, and each continuation writes its next
 * command. ioredis writes every command (or pipeline) with its own write(2); corking the socket until the tick ends
 * sends them all in one writev(2): fewer system calls here and fewer reads on the Redis side. Order is kept (cork
 * only buffers), and nothing waits longer than the current tick. (ioredis's own enableAutoPipelining batches the same
 * way but crashes on a NOSCRIPT resend inside an automatic pipeline: see src/cli/app.ts.)
 */
import type { Socket } from 'node:net';
import type { AbstractConnector, RedisOptions } from 'ioredis';
import { StandaloneConnector } from 'ioredis/built/connectors/index.js';

export function coalesceWrites(socket: Socket): void {
  const write = socket.write;
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  socket.write = function (this: Socket, ...args: Parameters<Socket['write']>) {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    }
    return write.apply(this, args);
  } as Socket['write'];
}

/** ioredis's default connector, with every stream it opens coalescing its writes (duplicates inherit it). */
export const CoalescingConnector = class extends StandaloneConnector {
  override async connect(...args: Parameters<AbstractConnector['connect']>) {
    const stream = await super.connect(...args);
    coalesceWrites(stream as Socket);
    return stream;
  }
} as unknown as NonNullable<RedisOptions['Connector']>;
