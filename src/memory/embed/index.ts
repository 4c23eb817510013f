/** Which embedder this process uses: OpenAI when the model is online, else the offline lexical embedder. */
import type { Config } from '../../config/env.js';
import { LexicalEmbedder } from './lexical.js';
import { OpenAIEmbedder } from './openai.js';
import type { Embedder } from './types.js';

export function createEmbedder(config: Config): Embedder {
  if (config.offlineModel || config.EMBEDDING_MODEL === 'lexical') return new LexicalEmbedder();
  return new OpenAIEmbedder({
    apiKey: config.OPENAI_API_KEY,
    baseUrl: config.OPENAI_BASE_URL,
    model: config.EMBEDDING_MODEL,
    dimensions: config.EMBEDDING_DIMENSIONS,
  });
}

export type { Embedder } from './types.js';
