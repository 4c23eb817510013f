/** Tools every agent has. Memory and reminder tools are added by their own stages when enabled. */
import { tool } from '@openai/agents';
import { z } from 'zod';

export const currentTimeTool = tool({
  name: 'current_time',
  description: 'The current date and time in ISO 8601 (UTC).',
  parameters: z.object({}),
  execute: async () => new Date().toISOString(),
});

export const baseTools = [currentTimeTool];

/**
 * Tools an agent has only when its `tools` list in the agents file names them (scheduling a broadcast): never
 * part of "all built-in tools", nor of the single agent the environment describes.
 */
const optInTools = new WeakSet<object>();

export function optIn<T extends object>(t: T): T {
  optInTools.add(t);
  return t;
}

export const isOptIn = (t: object): boolean => optInTools.has(t);
