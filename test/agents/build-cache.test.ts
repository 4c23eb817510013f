/**
 * Configured agents are built once per worker per configuration version, not per turn: turns of one agent share
 * the built agent; a reload of the agents file, or an MCP server going away, builds anew for the next turn (and
 * that turn sees the change: new instructions, the server's tools gone).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAgentPicker } from '../../src/agents/build.js';
import { AgentCatalog } from '../../src/agents/catalog.js';
import { parseAgentsFile } from '../../src/agents/config.js';
import { McpPool } from '../../src/agents/mcp/pool.js';
import type { TurnContext } from '../../src/core/module.js';
import { startHttpMcpServer, type HttpMcpServer } from '../fakes/mcp/server.js';
import { testConfig } from '../helpers/services.js';

const log = pino({ level: 'silent' });
let dir: string;
let file: string;
let mcp: HttpMcpServer;
let pool: McpPool;

function agentsYaml(instructions: string): string {
  const remote = { name: 'remote', transport: 'http', url: mcp.url, allow: ['shout'], timeoutMs: 2_000 };
  return JSON.stringify({
    agents: [
      { name: 'greeter', instructions, handoffs: ['tools'] },
      { name: 'tools', instructions: 'You use tools.', mcpServers: [remote] },
    ],
    default: 'greeter',
  });
}

beforeAll(async () => {
  mkdirSync('test-artifacts', { recursive: true });
  dir = mkdtempSync(resolve('test-artifacts', 'build-cache-'));
  file = resolve(dir, 'agents.yaml');
  mcp = await startHttpMcpServer();
  pool = new McpPool(log, process.env, 60_000);
});

afterAll(async () => {
  await pool?.close();
  await mcp?.close().catch(() => undefined);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const ctx = (agent?: string) =>
  ({
    ref: { platform: 'local', tenant: 'default', channel: 'room', kind: 'group' },
    ...(agent ? { agent: { name: agent, memory: true } } : {}),
  }) as unknown as TurnContext;

const instructionsOf = async (choice: { agent: { instructions: unknown } }) =>
  (choice.agent.instructions as (rc: { context: TurnContext }) => string)({ context: { instructions: [] } as never });

it('turns share one built agent; a reload or a vanished MCP server builds anew', async () => {
  writeFileSync(file, agentsYaml('You are greeter v1.'));
  const catalog = new AgentCatalog(parseAgentsFile(agentsYaml('You are greeter v1.'), file), log, file);
  const pick = createAgentPicker({ config: testConfig(), catalog, pool, builtins: [], log });

  const first = await pick(ctx());
  const second = await pick(ctx());
  expect(second.agent).toBe(first.agent); // built once
  expect(first.agent.handoffs[0]).toBe((await pick(ctx())).agent.handoffs[0]);
  const tools = await pick(ctx('tools'));
  expect(tools.agent.tools.map((t) => t.name)).toEqual(['shout']);
  expect((await pick(ctx('tools'))).agent).toBe(tools.agent);

  writeFileSync(file, agentsYaml('You are greeter v2.'));
  expect((await catalog.reload()).ok).toBe(true);
  const reloaded = await pick(ctx());
  expect(reloaded.agent).not.toBe(first.agent);
  expect(await instructionsOf(reloaded)).toContain('You are greeter v2.');
  expect((await pick(ctx())).agent).toBe(reloaded.agent);

  // The MCP server goes away: the next turn's agent no longer offers its tools and is told why.
  await pick(ctx('tools'));
  await mcp.close();
  const degraded = await pick(ctx('tools'));
  expect(degraded.agent.tools.map((t) => t.name)).toEqual([]);
  expect(await instructionsOf(degraded)).toContain('The tools of "remote" are unavailable right now');
}, 30_000);
