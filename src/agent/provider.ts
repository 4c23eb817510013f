/**
 * The OpenAI provider of the Agents SDK (OpenAI, or any OpenAI-compatible server), on the gateway's HTTP client
 * (src/core/http-fetch.ts) when one is given: every model call a worker makes goes through it.
 */
import { OpenAIProvider } from '@openai/agents';
import OpenAI from 'openai';

export interface ProviderOptions {
  apiKey?: string;
  baseURL?: string;
  /** `responses` for the Responses API; anything else is Chat Completions. */
  api: string;
  fetch?: typeof fetch;
}

export function createOpenAIProvider(o: ProviderOptions): OpenAIProvider {
  const useResponses = o.api === 'responses';
  if (!o.fetch) return new OpenAIProvider({ apiKey: o.apiKey, baseURL: o.baseURL, useResponses });
  // Built here rather than by the provider so it can carry the fetch; callers only get here with a key (or a
  // keyless local server, which still needs a non-empty one).
  const client = new OpenAI({ apiKey: o.apiKey ?? 'unused', baseURL: o.baseURL, fetch: o.fetch });
  return new OpenAIProvider({ openAIClient: client, useResponses });
}
