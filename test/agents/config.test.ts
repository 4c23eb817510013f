/**
 * The agents file on its own: what is refused (and how the refusal reads: never the file's content), routing
 * order, and reloads that keep the old configuration when the new file is bad. MCP connections: a server that
 * comes back is used again without a restart.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentCatalog } from '../../src/agents/catalog.js';
import { agentSchema, parseAgentsFile } from '../../src/agents/config.js';
import { McpPool } from '../../src/agents/mcp/pool.js';
import { pickAgent } from '../../src/agents/routing.js';
import type { ConversationRef } from '../../src/core/types.js';
import { capturingLogger } from '../fakes/slack/requests.js';
import { startHttpMcpServer } from '../fakes/mcp/server.js';

let dir: string;
beforeAll(() => {
  mkdirSync('test-artifacts', { recursive: true });
  dir = mkdtempSync(resolve('test-artifacts', 'agents-config-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const GOOD = `
agents:
  - name: support
    instructions: You help.
    provider: { baseUrl: "http://127.0.0.1:11434/v1", api: chat, apiKeyEnv: SUPPORT_KEY }
  - name: sales
    instructions: You sell.
routes:
  - { platform: slack, channel: C1, thread: true, agent: sales }
  - { platform: slack, kind: group, agent: support }
default: sales
`;

describe('agents file', () => {
  it('refuses an inline key, an unknown handoff or route, and says where without quoting the file', () => {
    const message = (text: string) => {
      try {
        parseAgentsFile(text, 'agents.yaml');
      } catch (err) {
        return (err as Error).message;
      }
      return '';
    };
    const inline = message('agents:\n  - name: a\n    instructions: x\n    provider: { apiKey: sk-live-123456 }\n');
    expect(inline).toContain('agents.0.provider.apiKey: secrets are not written in the agents file');
    expect(inline).not.toContain('sk-live-123456');
    const unknown = message(
      'agents:\n  - name: a\n    instructions: x\n    handoffs: [ghost]\nroutes:\n  - { agent: nobody }\n',
    );
    expect(unknown).toContain('agents.0.handoffs.0: unknown agent ghost');
    expect(unknown).toContain('routes.0.agent: unknown agent nobody');
  });

  it('a YAML syntax error names the line, not its text', () => {
    const broken = 'agents:\n  - name: a\n    instructions: "sk-unterminated-secret\n';
    expect(() => parseAgentsFile(broken, 'f.yaml')).toThrow(/line \d+/);
    try {
      parseAgentsFile(broken, 'f.yaml');
    } catch (err) {
      expect((err as Error).message).not.toContain('sk-unterminated');
    }
  });

  it('routes by the first matching rule, then the default; an admin choice wins while that agent exists', () => {
    const cfg = parseAgentsFile(GOOD, 'agents.yaml');
    const ref = (r: Partial<ConversationRef>): ConversationRef => ({
      platform: 'slack',
      tenant: 'T1',
      channel: 'C1',
      kind: 'group',
      ...r,
    });
    expect(pickAgent(cfg, ref({ thread: '171.1' }), null)).toBe('sales');
    expect(pickAgent(cfg, ref({}), null)).toBe('support');
    expect(pickAgent(cfg, ref({ kind: 'dm', channel: 'D1' }), null)).toBe('sales');
    expect(pickAgent(cfg, ref({}), 'sales')).toBe('sales');
    expect(pickAgent(cfg, ref({}), 'removed-since')).toBe('support');
  });
});

describe('reload', () => {
  it('a bad file keeps the old configuration, logged with the reason and without the secret', async () => {
    const file = resolve(dir, 'agents.yaml');
    writeFileSync(file, GOOD);
    const { log, lines } = capturingLogger();
    const catalog = new AgentCatalog(parseAgentsFile(GOOD, file), log, file);
    writeFileSync(file, GOOD.replace('apiKeyEnv: SUPPORT_KEY', 'apiKey: sk-oops-pasted'));
    const r = await catalog.reload();
    expect(r.ok).toBe(false);
    expect(catalog.current.agents.map((a) => a.name)).toEqual(['support', 'sales']);
    expect(lines.join('\n')).toContain('keeping the previous configuration');
    expect(lines.join('\n')).not.toContain('sk-oops-pasted');

    catalog.watch();
    try {
      const renamed = GOOD.replace('name: sales', 'name: sales2').replace('agent: sales', 'agent: sales2');
      writeFileSync(file, renamed.replace('default: sales', 'default: sales2'));
      const end = Date.now() + 10_000;
      while (!catalog.agent('sales2') && Date.now() < end) await new Promise((res) => setTimeout(res, 50));
      expect(catalog.current.agents.map((a) => a.name)).toEqual(['support', 'sales2']);
    } finally {
      catalog.close();
    }
  });
});

describe('MCP pool', () => {
  it('a server that was down is used again once it is back (no restart)', async () => {
    const first = await startHttpMcpServer();
    const port = Number(new URL(first.url).port);
    await first.close();
    const agent = agentSchema.parse({
      name: 'a',
      instructions: 'x',
      mcpServers: [{ name: 'remote', transport: 'http', url: first.url, timeoutMs: 3_000 }],
    });
    const pool = new McpPool(pino({ level: 'silent' }), process.env, 50);
    try {
      expect(await pool.toolsFor(agent)).toMatchObject({ tools: [], unavailable: ['remote'] });
      const again = await startHttpMcpServer(port);
      try {
        await new Promise((r) => setTimeout(r, 100)); // past the back-off
        const back = await pool.toolsFor(agent);
        expect(back.unavailable).toEqual([]);
        expect(back.tools.map((t) => t.name).sort()).toEqual(['shout', 'whisper', 'whoami']);
      } finally {
        await again.close();
      }
    } finally {
      await pool.close();
    }
  }, 30_000);
});
