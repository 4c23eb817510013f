/** `/deadletters list | retry <id>`: turns set aside after failing for a permanent reason (src/worker/deadletter.ts). */
import type { Redis } from 'ioredis';
import type { IngressSink } from '../../core/adapter.js';
import { defineCommand } from '../../commands/registry.js';
import type { Keys } from '../../queue/keys.js';
import { listDeadLetters, retryDeadLetter } from '../../worker/deadletter-store.js';
import { fail, grammar } from './args.js';
import { say } from './deps.js';

type Args = { op: 'list' } | { op: 'retry'; id: string };

const RETRY_ANSWER: Record<string, (id: string) => string> = {
  accepted: (id) => `Re-running \`${id}\`: it is back in its conversation's queue.`,
  duplicate: (id) => `\`${id}\` is already queued.`,
  refused: (id) => `\`${id}\` could not be queued again (it is still refused at ingress).`,
  missing: (id) => `No dead letter \`${id}\`.`,
  unreadable: (id) => `\`${id}\` can no longer be read as a message; it stays listed.`,
};

export function deadLetterCommands(d: { redis: Redis; keys: Keys; sink: IngressSink }) {
  return [
    defineCommand<Args>({
      name: 'deadletters',
      description: 'Messages set aside after failing for good: list, retry',
      usage: 'list | retry <id>',
      role: 'admin',
      args: grammar((w): Args => {
        const op = w[0]?.toLowerCase();
        if (!op || op === 'list') return { op: 'list' };
        if (op === 'retry' && w.length === 2) return { op: 'retry', id: w[1]! };
        fail('Use `/deadletters list` or `/deadletters retry <id>`.');
      }),
      async run(_inv, a, caller) {
        if (a.op === 'retry')
          return say(RETRY_ANSWER[await retryDeadLetter(d.redis, d.keys, d.sink, a.id, caller.principal)]!(a.id));
        const { total, items } = await listDeadLetters(d.redis, d.keys, 20);
        if (!total) return say('No dead letters.');
        // Ids, places, reasons and times only: the messages themselves stay in their conversations.
        return say(
          [
            `**Dead letters** (${total}${total > items.length ? `, latest ${items.length}` : ''})`,
            ...items.map(
              (x) =>
                `- \`${x.id}\` in \`${x.conversationKey}\` at ${x.at.slice(0, 19).replace('T', ' ')} UTC — ${x.reason}, ${x.attempts} attempts, ${x.status === 'retried' ? `re-run by \`${x.retriedBy}\`` : 'waiting'}`,
            ),
          ].join('\n'),
        );
      },
    }),
  ];
}
