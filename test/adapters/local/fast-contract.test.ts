/**
 * The local channel runs the fast tier of the adapter contract: recorded request bodies through its real HTTP route
 * (Fastify `inject`, no socket, no Redis) and render. It has no platform that refuses a send, so no error mapping.
 */
import fastify from 'fastify';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { createLocalAdapter } from '../../../adapters/local/index.js';
import type { IngressSink } from '../../../src/core/adapter.js';
import { registerAdapterRoutes } from '../../../src/ingress/raw-body.js';
import { fastContract, type MemorySink } from '../../contract/fast-contract.js';

const KEY = 'fast-contract-key';

fastContract('local', async () => {
  const log = pino({ level: 'silent' });
  // Never connects: posting without `wait` only reaches the sink; reading replies (Redis) is the end-to-end tier's.
  const idle = new Redis({ lazyConnect: true });
  const adapter = createLocalAdapter({
    redis: idle,
    streamKey: (c) => `fast:${c}`,
    notifyChannel: 'fast',
    connect: () => idle,
    pollMax: 1,
    log,
    apiKey: KEY,
    waitTimeoutMs: 1000,
    routes: true,
  });
  let current: MemorySink | undefined;
  const forward: IngressSink = {
    submit: (e) => current!.submit(e),
    command: (i) => current!.command(i),
    claim: (id) => current!.claim(id),
    log,
  };
  const app = fastify();
  await registerAdapterRoutes(app, adapter, forward);
  await app.ready();
  return {
    adapter,
    fixtures: {
      dir: 'local',
      expect: {
        'command_help.json': { kind: 'command', name: 'help' },
        'message_dm.json': { kind: 'event', conversation: 'dm', text: 'what time is it?' },
        'message_group.json': { kind: 'event', conversation: 'group', text: 'summarise the last hour, please' },
      },
    },
    parse: async (file, raw, sink) => {
      const from = sink.mark();
      current = sink;
      const headers = { 'content-type': 'application/json', 'x-api-key': KEY };
      const res = await app.inject({ method: 'POST', url: '/local/messages', headers, payload: raw });
      if (res.statusCode >= 300) throw new Error(`${file}: answered ${res.statusCode} ${res.body}`);
      return sink.outcome(from);
    },
    close: async () => {
      await app.close();
      idle.disconnect();
    },
  };
});
