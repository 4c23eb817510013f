/**
 * OpenAI embeddings over the same provider settings as the agent (OPENAI_API_KEY, OPENAI_BASE_URL), so an
 * OpenAI-compatible server (Ollama, vLLM) works too. A plain fetch of one documented endpoint, validated with zod:
 * the `openai` package is only a transitive dependency here and not worth pinning for a single call.
 */
import pRetry, { AbortError } from 'p-retry';
import { z } from 'zod';
import { normalise, type Embedder } from './types.js';

const KNOWN_DIMENSIONS: Record<string, number> = {
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  'text-embedding-ada-002': 1536,
};

const responseSchema = z.object({
  data: z.array(z.object({ index: z.number().int(), embedding: z.array(z.number()) })),
});

export interface OpenAIEmbedderOptions {
  apiKey?: string;
  baseUrl?: string;
  model: string;
  /** Requested size (text-embedding-3 models can shorten their vectors); required for models we do not know. */
  dimensions?: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export class OpenAIEmbedder implements Embedder {
  readonly model: string;
  readonly dimensions: number;
  private readonly url: string;

  constructor(private readonly o: OpenAIEmbedderOptions) {
    this.model = o.model;
    const dims = o.dimensions ?? KNOWN_DIMENSIONS[o.model];
    if (!dims)
      throw new Error(
        `EMBEDDING_DIMENSIONS: required for the embedding model "${o.model}" (its vector size is not known here)`,
      );
    this.dimensions = dims;
    this.url = `${(o.baseUrl ?? 'https://api.openai.com/v1').replace(/\/+$/, '')}/embeddings`;
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    if (!texts.length) return [];
    const body: Record<string, unknown> = { model: this.model, input: texts, encoding_format: 'float' };
    if (this.o.dimensions && this.model.startsWith('text-embedding-3')) body.dimensions = this.o.dimensions;
    const doFetch = this.o.fetch ?? fetch;
    const json = await pRetry(
      async () => {
        const res = await doFetch(this.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(this.o.apiKey ? { authorization: `Bearer ${this.o.apiKey}` } : {}),
          },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(this.o.timeoutMs ?? 20_000),
        });
        // Never include the response body in the error: some servers echo request headers.
        if (res.status === 429 || res.status >= 500) throw new Error(`embeddings: HTTP ${res.status}`);
        if (!res.ok) throw new AbortError(`embeddings: HTTP ${res.status}`);
        return res.json();
      },
      { retries: 2, minTimeout: 300, maxTimeout: 3_000 },
    );
    const parsed = responseSchema.parse(json);
    const out = new Array<Float32Array>(texts.length);
    for (const d of parsed.data) {
      if (d.embedding.length !== this.dimensions) {
        throw new Error(
          `embeddings: model returned ${d.embedding.length} dimensions, expected ${this.dimensions} (set EMBEDDING_DIMENSIONS)`,
        );
      }
      out[d.index] = normalise(Float32Array.from(d.embedding));
    }
    if (out.some((v) => !v)) throw new Error('embeddings: response is missing some inputs');
    return out;
  }
}
