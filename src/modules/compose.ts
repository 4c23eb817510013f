/**
 * Builds the modules of one app from their definitions: checks every `requires` against the `provides` of the
 * others, builds them in dependency order (a module is built after those it requires), and returns them in the
 * order given, which is hook order (access control first). A missing or circular requirement is a
 * programming error in the composition: it fails at start with one sentence naming the modules.
 */
import type { GatewayModule, ModuleDefinition, ModuleDeps, ServiceName, Services } from './contract.js';

export class CompositionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CompositionError';
  }
}

export interface ComposedModules {
  /** In the order of the definitions (hook order). */
  modules: GatewayModule[];
  /** Everything the modules provide, by service name. */
  services: Partial<Services>;
}

/** Dependency order of the definitions (depth-first; the list order among independent ones). */
function buildOrder(defs: readonly ModuleDefinition[]): ModuleDefinition[] {
  const providerOf = new Map<ServiceName, ModuleDefinition>();
  for (const d of defs) {
    for (const s of d.provides ?? []) {
      const other = providerOf.get(s);
      if (other) throw new CompositionError(`Modules "${other.name}" and "${d.name}" both provide "${String(s)}".`);
      providerOf.set(s, d);
    }
  }
  const order: ModuleDefinition[] = [];
  const state = new Map<ModuleDefinition, 'visiting' | 'done'>();
  const visit = (d: ModuleDefinition, path: string[]) => {
    if (state.get(d) === 'done') return;
    if (state.get(d) === 'visiting') {
      const cycle = [...path.slice(path.indexOf(d.name)), d.name].join(' -> ');
      throw new CompositionError(`Modules require each other in a cycle: ${cycle}.`);
    }
    state.set(d, 'visiting');
    for (const s of d.requires ?? []) {
      const p = providerOf.get(s);
      if (!p) throw new CompositionError(`Module "${d.name}" requires "${String(s)}", which no module provides.`);
      visit(p, [...path, d.name]);
    }
    state.set(d, 'done');
    order.push(d);
  };
  for (const d of defs) visit(d, []);
  return order;
}

/** Throws a CompositionError when a requirement is missing, provided twice or circular. Builds nothing. */
export function checkModules(defs: readonly ModuleDefinition[]): void {
  buildOrder(defs);
}

export function composeModules(defs: readonly ModuleDefinition[], deps: ModuleDeps): ComposedModules {
  const services: Partial<Services> = {};
  const built = new Map<ModuleDefinition, GatewayModule>();
  for (const d of buildOrder(defs)) {
    const given = Object.fromEntries((d.requires ?? []).map((s) => [s, services[s]])) as unknown as Services;
    const m = d.create(deps, given);
    for (const s of d.provides ?? []) {
      if (!m.provides || !(s in m.provides)) {
        throw new CompositionError(`Module "${d.name}" declares it provides "${String(s)}" but did not.`);
      }
      Object.assign(services, { [s]: m.provides[s] });
    }
    built.set(d, m);
  }
  return { modules: defs.map((d) => built.get(d)!), services };
}
