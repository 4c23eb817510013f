/**
 * The configuration in force, reloadable without a restart. A reload (file changed, `/agent reload`, or another
 * process asking over Redis) reads and checks the whole file first; a bad file keeps the old configuration and
 * the reason is logged (where and what was wrong, never the file's content).
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';
import type { AgentConfig, AgentsConfig } from './config.js';
import { readAgentsFile } from './config.js';

export type ReloadResult = { ok: true; agents: string[] } | { ok: false; error: string };

export class AgentCatalog {
  private cfg: AgentsConfig;
  private readonly listeners: ((cfg: AgentsConfig) => void)[] = [];
  private watcher: FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;

  constructor(
    initial: AgentsConfig,
    private readonly log: Logger,
    /** The agents file; unset: the configuration came from the environment and never changes. */
    private readonly path?: string,
  ) {
    this.cfg = initial;
  }

  get current(): AgentsConfig {
    return this.cfg;
  }

  agent(name: string): AgentConfig | undefined {
    return this.cfg.agents.find((a) => a.name === name);
  }

  onChange(fn: (cfg: AgentsConfig) => void): void {
    this.listeners.push(fn);
  }

  async reload(): Promise<ReloadResult> {
    if (!this.path) {
      return { ok: false, error: 'no agents file is configured (AGENTS_FILE): the agent comes from the environment' };
    }
    try {
      const next = await readAgentsFile(this.path);
      this.cfg = next;
      this.log.info({ agents: next.agents.map((a) => a.name), routes: next.routes.length }, 'agents file loaded');
      for (const fn of this.listeners) fn(next);
      return { ok: true, agents: next.agents.map((a) => a.name) };
    } catch (err) {
      const error = (err as Error).message;
      this.log.warn({ reason: error }, 'agents file rejected; keeping the previous configuration');
      return { ok: false, error };
    }
  }

  /**
   * Reload when the file changes. The directory is watched, not the file: editors and Kubernetes ConfigMaps
   * replace the file (a new inode), which a watch on the old file would never report.
   */
  watch(): void {
    if (!this.path || this.watcher) return;
    const name = basename(this.path);
    try {
      this.watcher = watch(dirname(this.path), (_event, file) => {
        if (file && file !== name && !file.startsWith('..')) return;
        clearTimeout(this.debounce);
        // Writes come in bursts (truncate, write, rename): read once they settle.
        this.debounce = setTimeout(() => void this.reload(), 150);
      });
      this.watcher.on('error', (err) => this.log.warn({ err: err.message }, 'agents file watch stopped'));
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'cannot watch the agents file; reload with /agent reload');
    }
  }

  close(): void {
    clearTimeout(this.debounce);
    this.watcher?.close();
    this.watcher = undefined;
  }
}
