/**
 * Names the api module uses: Redis keys under the gateway prefix, the conversation a thread maps to, the one
 * built-in assistant, and inbound event ids for runs.
 */
import { createHash } from 'node:crypto';
import { conversationKey, type ConversationRef } from '../core/types.js';
import type { AgentCatalog } from '../agents/catalog.js';
import { QUEUE_NAMES } from '../queue/keys.js';

export { apiKeys, type ApiKeys } from '../queue/keys.js';
export const CRON_QUEUE = QUEUE_NAMES.apiCrons;

/** uuid v5 (RFC 4122 section 4.3) from a namespace uuid and a name. */
export function uuid5(name: string, namespace: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const h = createHash('sha1').update(ns).update(name).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/**
 * The gateway runs one agent, exposed as graph "agent". Its assistant id is derived the way LangGraph servers
 * derive a graph's default assistant (uuid5 of the graph id in their graph namespace), so clients that hard-code
 * fe096781-5601-53d2-b2f6-0d3403f7e9ca for "agent" work unchanged; the graph id itself is accepted too.
 */
export const GRAPH_ID = 'agent';
export const ASSISTANT_ID = uuid5(GRAPH_ID, '6ba7b821-9dad-11d1-80b4-00c04fd430c8');

export function isOurAssistant(id: string | undefined): boolean {
  return id === undefined || id === ASSISTANT_ID || id === GRAPH_ID;
}

/**
 * A thread is one caller's conversation, so it is a DM: the model reads each message as sent (no `[sender] `
 * label) and memory extraction takes every line as that caller's. A DM's key is `api:<key>:dm:<channel>`, so the
 * channel carries the incarnation: a thread deleted and created again under the same id starts a fresh session.
 */
export function threadRef(keyId: string, threadId: string, incarnation: string): ConversationRef {
  return { platform: 'api', tenant: keyId, channel: `${threadId}:${incarnation}`, kind: 'dm' };
}

/**
 * The sender id of a run's event. `user_id` is whatever the client sent, unique only within its key, so the key
 * is part of the id: the access module's principal is `api:<key>:<user>` (roles, bans, rate buckets), and two keys
 * naming the same user never share a bucket, a budget or memories.
 */
export function apiSenderId(keyId: string, userId: string): string {
  return `${keyId}:${userId}`;
}

export function threadConversationKey(keyId: string, threadId: string, incarnation: string): string {
  return conversationKey(threadRef(keyId, threadId, incarnation));
}

/** A run is submitted as one inbound event with this id (the gateway's dedupe key), so resubmitting is harmless. */
export function runEventId(runId: string): string {
  return `api:${runId}`;
}

export function runIdOfEvent(eventId: string): string | null {
  return eventId.startsWith('api:') ? eventId.slice(4) : null;
}

/** The configured agent this id names (agents file only: the environment's single agent is graph "agent"). */
export function configuredAgent(ctx: { agents?: AgentCatalog }, id: string | undefined): string | undefined {
  if (!id || !ctx.agents || ctx.agents.current.source === 'environment') return undefined;
  return ctx.agents.agent(id)?.name;
}
