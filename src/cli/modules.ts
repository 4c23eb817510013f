/**
 * The modules this gateway runs, in hook order (access control first: it may refuse a turn). They are built in
 * dependency order (src/modules/compose.ts): access requires memory and scheduler, so those are built before it.
 */
import { accessModule } from '../access/index.js';
import { apiModule } from '../api/index.js';
import { memoryModule } from '../memory/index.js';
import type { ModuleDefinition } from '../modules/contract.js';
import { schedulerModule } from '../scheduler/index.js';
import { channelsModule } from './channels.js';

export const builtInModules: readonly ModuleDefinition[] = [
  channelsModule, accessModule, memoryModule, schedulerModule, apiModule,
];
