/** `npm run chaos -- [--messages 1000] [--conversations 100] [--workers 3]`: see bench/chaos-lib.ts. Prints one JSON line last. */
import { parseArgs } from 'node:util';
import { runChaos } from './chaos-lib.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '1000' },
    conversations: { type: 'string', default: '100' },
    workers: { type: 'string', default: '3' },
    'send-seconds': { type: 'string', default: '30' },
  },
});
const result = await runChaos({
  messages: Number(values.messages),
  conversations: Number(values.conversations),
  workers: Number(values.workers),
  sendSeconds: Number(values['send-seconds']),
  workerKillEveryMs: 4_000,
  redisRestarts: 1,
  dbOutageMs: 10_000,
  log: (line) => console.error(`[chaos] ${line}`),
});
console.log(JSON.stringify(result));
process.exit(result.lost || result.duplicates || result.orderViolations || !result.idle ? 1 : 0);
