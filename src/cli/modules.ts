/** The capability modules this gateway runs, in hook order (access control first: it may refuse a turn). */
import { createAccessModule } from '../access/index.js';
import { createApiModule } from '../api/index.js';
import type { GatewayModule, ModuleDeps } from '../core/module.js';
import { createLiveModule } from '../live/index.js';
import { createMemoryModule } from '../memory/index.js';
import { createSchedulerModule } from '../scheduler/index.js';

export function buildModules(deps: ModuleDeps): GatewayModule[] {
  return [createAccessModule(deps), createMemoryModule(deps), createSchedulerModule(deps), createApiModule(deps), createLiveModule(deps)];
}
