/**
 * Live replies and /stop. The worker half (src/live/turns.ts) wraps the agent runtime in src/worker; this module
 * brings the `/stop` command, which works on every platform and in any gateway: it asks whichever worker runs the
 * conversation's turn to abort the model call. The partial answer is kept, marked as stopped, and messages that
 * arrived meanwhile still get their turn.
 */
import { defineCommand } from '../commands/registry.js';
import { defineModule, type GatewayModule, type ModuleDeps } from '../modules/contract.js';
import { conversationKey } from '../core/types.js';
import { requestStop } from './turns.js';

export const liveModule = defineModule({ name: 'live', create: (deps) => createLiveModule(deps) });

export function createLiveModule(deps: ModuleDeps): GatewayModule {
  const stop = defineCommand({
    name: 'stop',
    description: 'Stop the answer being written here (what it showed so far is kept)',
    role: 'user',
    async run(inv) {
      const running = await requestStop(deps.redis, deps.keys, conversationKey(inv.conversation));
      const text = running ? 'Stopping the answer in progress.' : 'Nothing is being answered here right now.';
      return { text, ephemeral: true };
    },
  });
  return { name: 'live', commands: [stop] };
}
