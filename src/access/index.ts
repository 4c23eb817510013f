/**
 * The access module: roles, the command set, access control on every turn, usage accounting and the audit log.
 * First in hook order (src/cli/modules.ts), so a refused, banned or paused turn never reaches the other modules.
 *
 * - Commands (one registry, every platform): help, reset, memory, forget, checkin, usage for users; status,
 *   sessions, reset/memory @user, schedule, broadcast, pause/resume, ban/unban, usage all, allow, audit for admins;
 *   grant/revoke for owners. The registry refuses what a role does not allow and audits every admin command.
 * - The agent's `schedule_broadcast` tool (broadcast-tool.ts): `/schedule add` for admins, asked in chat, after an
 *   approval; only agents that name it in the agents file have it.
 * - Turn hooks (gate.ts): pause, bans, DM policy (open / allowlist / pairing), rate limit, daily budget, loop guard;
 *   per-user token usage after each commit.
 */
import { defineModule, type GatewayModule, type ModuleDeps, type Services } from '../modules/contract.js';
import { scheduleBroadcastTool } from './broadcast-tool.js';
import { deadLetterCommands } from './commands/deadletters.js';
import { moderationCommands } from './commands/moderation.js';
import { operationCommands } from './commands/operations.js';
import { selfCommands } from './commands/self.js';
import type { CommandDeps } from './commands/deps.js';
import { accessHooks } from './gate.js';
import { accessKeys, accessPolicy } from './policy.js';
import type { Ports } from './ports.js';
import { commandCaller } from './standing.js';
import { packageVersion } from '../core/app-root.js';
import { writeAudit } from './store.js';
import { memoryPort, schedulerPorts } from './wiring.js';
import { safeErr } from '../observability/logger.js';

export interface AccessModuleOptions {
  /** Replace the memory / scheduler ports (tests, or a gateway without those modules). */
  ports?: Ports;
}

/** Requires the memory and scheduler services for its commands' ports; built after them, first in hook order. */
export const accessModule = defineModule({
  name: 'access',
  requires: ['memory', 'scheduler'],
  create: (deps, services) => createAccessModule(deps, services),
});

export function createAccessModule(
  deps: ModuleDeps,
  services: Pick<Services, 'memory' | 'scheduler'>,
  opts: AccessModuleOptions = {},
): GatewayModule {
  const log = deps.log.child({ module: 'access' });
  const db = deps.database.db;
  const keys = accessKeys(deps.config.KEY_PREFIX);
  const policy = accessPolicy(deps.config, deps.adapters);
  const ports: Ports = opts.ports ?? { memory: memoryPort(services.memory), ...schedulerPorts(services.scheduler) };

  deps.commands.setAccess({
    caller: commandCaller(db, policy),
    async audit(entry) {
      try {
        await writeAudit(db, entry);
      } catch (err) {
        log.error(
          { command: entry.invocation.name, actor: entry.caller.principal, result: entry.result, err: safeErr(err) },
          'audit entry not written',
        );
        throw err;
      }
    },
  });

  const cd: CommandDeps & { inbox: ModuleDeps['inbox'] } = {
    db,
    redis: deps.redis,
    keys,
    policy,
    config: deps.config,
    queues: deps.queues,
    adapters: deps.adapters,
    log,
    inbox: deps.inbox,
    version: packageVersion(),
    startedAt: Date.now(),
    ports,
  };

  return {
    name: 'access',
    tools: [scheduleBroadcastTool({ db, policy, commands: deps.commands })],
    commands: [
      ...selfCommands(cd),
      ...moderationCommands(cd),
      ...operationCommands(cd),
      ...deadLetterCommands({ redis: deps.redis, keys: deps.keys, sink: deps.sink }),
    ],
    hooks: accessHooks({
      db,
      redis: deps.redis,
      keys,
      policy,
      config: deps.config,
      adapters: deps.adapters,
      paceKey: deps.keys.pace,
      log,
    }),
  };
}
