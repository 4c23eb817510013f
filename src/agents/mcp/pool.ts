/**
 * MCP connections, pooled per worker process: one connection per (agent, server), opened on first use and kept
 * for later turns. A server that cannot be reached (connect or list fails, or times out) is marked down for a
 * while (backing off) and its tools are left out of the turn: the agent is degraded, the turn is still answered.
 * A tool call that fails mid-turn is reported to the model by the Agents SDK (its MCP error function), and the
 * next turn's listing notices the broken connection and reconnects.
 */
import {
  MCPServerStdio,
  MCPServerStreamableHttp,
  mcpToFunctionTool,
  type FunctionTool,
  type MCPServer,
} from '@openai/agents';
import type { Logger } from 'pino';
import type { AgentConfig, McpServerConfig } from '../config.js';

export interface McpToolset {
  tools: FunctionTool<any, any, any>[];
  /** Servers whose tools are missing this turn. */
  unavailable: string[];
}

interface Entry {
  fingerprint: string;
  server: MCPServer;
  connecting: Promise<void> | null;
  failures: number;
  downUntil: number;
}

const MAX_BACKOFF_MS = 60_000;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Values from our environment by the names the file gives; a missing variable is a clear error, not an empty value. */
function fromEnv(names: Record<string, string>, env: NodeJS.ProcessEnv, what: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(names).map(([k, envName]) => {
      const v = env[envName];
      if (v === undefined) throw new Error(`${what} ${k}: environment variable ${envName} is not set`);
      return [k, v];
    }),
  );
}

function newServer(s: McpServerConfig, env: NodeJS.ProcessEnv): MCPServer {
  const common = {
    name: s.name,
    timeout: s.timeoutMs,
    clientSessionTimeoutSeconds: s.timeoutMs / 1000,
    // The pool lists per turn: a listing that fails is how a dead connection is noticed.
    cacheToolsList: false,
  };
  if (s.transport === 'stdio') {
    return new MCPServerStdio({
      ...common,
      command: s.command,
      args: s.args,
      cwd: s.cwd,
      env: { ...s.env, ...fromEnv(s.envFrom, env, 'env') },
    });
  }
  return new MCPServerStreamableHttp({
    ...common,
    url: s.url,
    requestInit: { headers: fromEnv(s.headersFromEnv, env, 'header') },
  });
}

export function offeredTool(s: McpServerConfig, tool: string): boolean {
  return (!s.allow || s.allow.includes(tool)) && !s.deny.includes(tool);
}

export class McpPool {
  private readonly entries = new Map<string, Entry>();
  private closed = false;

  constructor(
    private readonly log: Logger,
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly baseBackoffMs = 1_000,
  ) {}

  /** The tools of this agent's MCP servers that answer now; never throws. */
  async toolsFor(agent: AgentConfig): Promise<McpToolset> {
    const results = await Promise.all(agent.mcpServers.map((s) => this.serverTools(agent.name, s)));
    const tools: FunctionTool<any, any, any>[] = [];
    const unavailable: string[] = [];
    const seen = new Set<string>();
    agent.mcpServers.forEach((s, i) => {
      const r = results[i];
      if (!r) return void unavailable.push(s.name);
      for (const t of r) {
        if (seen.has(t.name)) {
          const where = { agent: agent.name, server: s.name, tool: t.name };
          this.log.warn(where, 'MCP tool name taken by another server; skipped');
          continue;
        }
        seen.add(t.name);
        tools.push(t);
      }
    });
    return { tools, unavailable };
  }

  private async serverTools(agent: string, s: McpServerConfig): Promise<FunctionTool<any, any, any>[] | undefined> {
    if (this.closed) return undefined;
    const key = `${agent}/${s.name}`;
    const fingerprint = JSON.stringify(s);
    let e = this.entries.get(key);
    if (e && e.fingerprint !== fingerprint) {
      // The agents file changed this server: the old connection goes.
      this.entries.delete(key);
      void e.server.close().catch(() => undefined);
      e = undefined;
    }
    if (!e) {
      try {
        e = { fingerprint, server: newServer(s, this.env), connecting: null, failures: 0, downUntil: 0 };
      } catch (err) {
        this.log.warn({ agent, server: s.name, reason: (err as Error).message }, 'MCP server not configured');
        return undefined;
      }
      this.entries.set(key, e);
    }
    if (e.downUntil > Date.now()) return undefined;
    const entry = e;
    try {
      entry.connecting ??= withTimeout(entry.server.connect(), s.timeoutMs, 'connect');
      await entry.connecting;
      const listed = await withTimeout(entry.server.listTools(), s.timeoutMs, 'list tools');
      if (entry.failures) this.log.info({ agent, server: s.name }, 'MCP server reachable again');
      entry.failures = 0;
      return listed
        .filter((t) => offeredTool(s, t.name))
        .map((t) => {
          const tool = mcpToFunctionTool(t, entry.server, false) as FunctionTool<any, any, any>;
          // Recorded on the tool: the SDK then stops the run for a person's approval instead of calling it.
          if (s.needsApproval.includes(t.name)) tool.needsApproval = async () => true;
          return tool;
        });
    } catch (err) {
      entry.failures++;
      const backoff = Math.min(MAX_BACKOFF_MS, this.baseBackoffMs * 2 ** (entry.failures - 1));
      entry.downUntil = Date.now() + backoff;
      entry.connecting = null;
      void entry.server.close().catch(() => undefined);
      const why = { agent, server: s.name, backoffMs: backoff, reason: (err as Error).message };
      this.log.warn(why, 'MCP server unavailable; its tools are left out');
      return undefined;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map((e) => e.server.close().catch(() => undefined)));
  }
}
