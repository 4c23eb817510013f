/** Which agent answers a conversation: an admin's choice for it (`/agent use`), else the first matching rule. */
import type { ConversationRef } from '../core/types.js';
import type { AgentsConfig, Route } from './config.js';

export function routeMatches(r: Route, ref: ConversationRef): boolean {
  if (r.platform !== undefined && r.platform !== ref.platform) return false;
  if (r.tenant !== undefined && r.tenant !== ref.tenant) return false;
  if (r.channel !== undefined && r.channel !== ref.channel) return false;
  if (r.kind !== undefined && r.kind !== ref.kind) return false;
  if (r.thread === true && !ref.thread) return false;
  if (r.thread === false && ref.thread) return false;
  if (typeof r.thread === 'string' && r.thread !== ref.thread) return false;
  return true;
}

/** The agent the rules pick for this conversation (first match wins, then the default). */
export function routedAgent(cfg: AgentsConfig, ref: ConversationRef): string {
  return cfg.routes.find((r) => routeMatches(r, ref))?.agent ?? cfg.default;
}

/**
 * The agent that answers: the conversation's chosen agent while it still exists in the configuration (a reload
 * may have removed it: then the rules decide again), else the routed one.
 */
export function pickAgent(cfg: AgentsConfig, ref: ConversationRef, chosen: string | null): string {
  if (chosen && cfg.agents.some((a) => a.name === chosen)) return chosen;
  return routedAgent(cfg, ref);
}
