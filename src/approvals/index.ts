/**
 * Approvals (human in the loop): a tool marked `needsApproval` stops the run; the worker stores the run's state
 * and posts one prompt with Approve / Reject (src/worker/approval-turn.ts); a decision resumes the run in any
 * worker. This module brings the decision commands (what every click becomes) and the expiry sweep: a pending
 * approval past APPROVAL_TIMEOUT_MS gets a turn, which expires it with a message and lets waiting messages run.
 */
import { startPeriodic } from '../core/periodic.js';
import { defineModule } from '../modules/contract.js';
import { approvalCommands } from './commands.js';
import { expiredConversations } from './store.js';

export const approvalsModule = defineModule({
  name: 'approvals',
  create: (deps) => ({
    name: 'approvals',
    commands: approvalCommands({ db: deps.database.db, sink: deps.sink }),
    async startWorker() {
      const every = Math.min(5_000, Math.max(200, Math.floor(deps.config.APPROVAL_TIMEOUT_MS / 4)));
      return startPeriodic(
        async () => {
          for (const key of await expiredConversations(deps.database.db, new Date()))
            await deps.queues.scheduleTurn(key);
        },
        every,
        deps.log,
        { what: 'approval expiry sweep' },
      );
    },
  }),
});
