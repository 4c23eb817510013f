/**
 * The modules this gateway runs, in hook order (access control first: it may refuse a turn; agents right after it,
 * so the turn's agent is known to the modules after it, e.g. memory on or off). They are built in dependency order
 * (src/modules/compose.ts): access requires memory and scheduler, the API requires agents.
 */
import { accessModule } from '../access/index.js';
import { agentsModule, gateMemoryByAgent } from '../agents/index.js';
import { apiModule } from '../api/index.js';
import { approvalsModule } from '../approvals/index.js';
import { liveModule } from '../live/index.js';
import { memoryModule } from '../memory/index.js';
import type { ModuleDefinition } from '../modules/contract.js';
import { schedulerModule } from '../scheduler/index.js';
import { channelsModule } from './channels.js';

export const builtInModules: readonly ModuleDefinition[] = [
  channelsModule,
  accessModule,
  agentsModule,
  gateMemoryByAgent(memoryModule),
  schedulerModule,
  apiModule,
  liveModule,
  approvalsModule,
];
