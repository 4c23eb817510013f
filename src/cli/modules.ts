/** The capability modules this gateway runs, in hook order (access control first: it may refuse a turn). */
import { createAccessModule } from '../access/index.js';
import { createAgentsModule, withAgentMemoryGate } from '../agents/index.js';
import { createApiModule } from '../api/index.js';
import type { GatewayModule, ModuleDeps } from '../core/module.js';
import { createMemoryModule } from '../memory/index.js';
import { createSchedulerModule } from '../scheduler/index.js';

export function buildModules(deps: ModuleDeps): GatewayModule[] {
  // agents: right after access control, so the turn's agent is known to the modules after it (memory on/off).
  return [
    createAccessModule(deps), createAgentsModule(deps), withAgentMemoryGate(createMemoryModule(deps)),
    createSchedulerModule(deps), createApiModule(deps),
  ];
}
