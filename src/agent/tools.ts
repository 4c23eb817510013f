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
