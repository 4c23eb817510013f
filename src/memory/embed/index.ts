/**
 * Which embedder this process uses: OpenAI when the model is online; otherwise (or EMBEDDING_MODEL=wordvec) the
 * offline word-vector embedder, semantic, from the vector file shipped in the repo; EMBEDDING_MODEL=lexical, or a
 * missing vector file, the offline lexical one. The store is versioned by the embedder's model and dimensions, so a
 * switch re-embeds (Qdrant: another collection; embedded store: other-model rows rank lexically until rewritten).
 */
import type { Config } from '../../config/env.js';
import { LexicalEmbedder } from './lexical.js';
import { OpenAIEmbedder } from './openai.js';
import type { Embedder } from './types.js';
import { loadShippedWordVectors, WordVectorEmbedder } from './word-vectors.js';

let wordVectors: WordVectorEmbedder | undefined;

/** One per process: the vectors (~4.5 MB) are read once, and the embedder holds no per-call state. */
function offlineEmbedder(): Embedder {
  if (wordVectors) return wordVectors;
  const vectors = loadShippedWordVectors();
  if (!vectors) {
    process.emitWarning(
      'memory: the word-vector file is missing (npm run memory:vectors rebuilds it); ' +
        'recall falls back to the lexical embedder, which finds shared words only',
    );
    return new LexicalEmbedder();
  }
  return (wordVectors = new WordVectorEmbedder(vectors));
}

export function createEmbedder(config: Config, httpFetch?: typeof fetch): Embedder {
  if (config.EMBEDDING_MODEL === 'lexical') return new LexicalEmbedder();
  if (config.offlineModel || config.EMBEDDING_MODEL === 'wordvec') return offlineEmbedder();
  return new OpenAIEmbedder({
    apiKey: config.OPENAI_API_KEY,
    baseUrl: config.OPENAI_BASE_URL,
    model: config.EMBEDDING_MODEL,
    dimensions: config.EMBEDDING_DIMENSIONS,
    fetch: httpFetch,
  });
}

export type { Embedder } from './types.js';
