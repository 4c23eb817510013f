/**
 * An agent with `memory: false` neither recalls nor learns: the memory module's turn hooks are skipped for its
 * turns (its tools are left out in src/agents/build.ts). Wraps the module instead of editing it.
 */
import type { GatewayModule, ModuleDefinition } from '../modules/contract.js';

export function withAgentMemoryGate(m: GatewayModule): GatewayModule {
  const h = m.hooks;
  if (!h) return m;
  return {
    ...m,
    hooks: {
      read: h.read,
      commitWrites: h.commitWrites && ((ctx, o) => (ctx.agent?.memory === false ? [] : h.commitWrites!(ctx, o))),
      beforeRun: h.beforeRun && (async (ctx) => (ctx.agent?.memory === false ? undefined : h.beforeRun!(ctx))),
      afterCommit:
        h.afterCommit && (async (ctx, o) => (ctx.agent?.memory === false ? undefined : h.afterCommit!(ctx, o))),
    },
  };
}

/** The same, for a module definition (the memory module is composed from its definition). */
export function gateMemoryByAgent(def: ModuleDefinition): ModuleDefinition {
  return { ...def, create: (deps, services) => withAgentMemoryGate(def.create(deps, services)) };
}
