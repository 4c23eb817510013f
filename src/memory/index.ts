/**
 * Long-term memory: per-user facts extracted off the hot path, hybrid recall each turn, agent tools, and list /
 * forget functions for the commands module. Qdrant when QDRANT_URL is set, else Postgres / CockroachDB.
 *
 * - beforeRun: the user's most relevant memories (in a group: only those learned there or shared) (and this conversation's summary, once compacted) are added to
 *   the turn's instructions. A failing or slow store never fails the turn: the agent then runs without them.
 * - afterCommit: schedules the debounced extraction job for every person who spoke in the turn.
 * - worker: the extraction job (jobs/extraction.ts): extract, consolidate, compact.
 */
import { Worker, type ConnectionOptions } from 'bullmq';
import type { TurnContext } from '../core/module.js';
import { defineModule, type GatewayModule, type ModuleDeps } from '../modules/contract.js';
import { createEmbedder } from './embed/index.js';
import { createModelRunner, ModelExtractor, ModelSummariser } from './extract/model.js';
import { OfflineExtractor, OfflineSummariser } from './extract/offline.js';
import type { FactExtractor, Summariser } from './extract/types.js';
import { runExtraction } from './jobs/extraction.js';
import { ExtractionScheduler, QUEUE_MEMORY, type ExtractionJob } from './jobs/pending.js';
import { MemoryService } from './service.js';
import { createStore } from './store/index.js';
import { memoryTools } from './tools.js';
import { visibleIn } from './recall.js';
import { inSpan, linkTo, traceparentOf } from '../observability/tracing.js';
import type { Memory, VisibilityOptions } from './types.js';
import { safeErr } from '../observability/logger.js';

export type { Memory, MemoryStore } from './types.js';

/** What the commands module calls (`/memories`, `/forget`). Always scoped by the caller's own user key. */
export interface MemoryApi {
  /** `visibleIn`: a group conversation's key; only memories learned there or shared are listed (see recall.ts). */
  listMemories(userKey: string, limit?: number, scope?: VisibilityOptions): Promise<Memory[]>;
  /** Returns how many memories were forgotten (0 when the id is unknown or not this user's). */
  forgetMemory(userKey: string, id: string | 'all'): Promise<number>;
  /** Let one of this user's memories be recalled in groups too (or not). False when the id is not theirs. */
  shareMemory(userKey: string, id: string, shared: boolean): Promise<boolean>;
}

declare module '../modules/contract.js' {
  interface Services {
    /** null when MEMORY_ENABLED is off: `/memory` and `/forget` then answer that memory is not available. */
    memory: MemoryApi | null;
  }
}

/** Recall must not hold up a reply: past this, the turn runs without memories. */
const RECALL_TIMEOUT_MS = 3_000;

/** The people who spoke in the turn, by user key (their id: a display name is neither unique nor stable). */
function humansOf(ctx: TurnContext): Set<string> {
  const who = new Set<string>();
  for (const e of ctx.events) {
    if (e.sender.isBot || (e.kind !== 'message' && e.kind !== 'edit')) continue;
    who.add(`${e.platform}:${e.tenant}:${e.sender.id}`);
  }
  return who;
}

export const memoryModule = defineModule({ name: 'memory', provides: ['memory'], create: createMemoryModule });

function createMemoryModule(deps: ModuleDeps): GatewayModule {
  const { config } = deps;
  if (!config.MEMORY_ENABLED) return { name: 'memory', provides: { memory: null } };
  const log = deps.log.child({ module: 'memory' });
  const embedder = createEmbedder(config, deps.httpFetch);
  const store = createStore(config, deps.database, embedder);
  const service = new MemoryService(
    store,
    {
      limit: config.MEMORY_RECALL_LIMIT,
      maxChars: config.MEMORY_RECALL_MAX_CHARS,
      halfLifeDays: config.MEMORY_RECENCY_HALF_LIFE_DAYS,
    },
    log,
  );
  const scheduler = new ExtractionScheduler(
    deps.redis,
    deps.queueRedis,
    config.KEY_PREFIX,
    deps.keys.bullPrefix,
    config.MEMORY_EXTRACT_DELAY_MS,
  );
  const api: MemoryApi = {
    listMemories: (userKey, limit, scope) => service.listMemories(userKey, limit, scope),
    forgetMemory: (userKey, id) => service.forgetMemory(userKey, id),
    shareMemory: (userKey, id, shared) => service.shareMemory(userKey, id, shared),
  };
  log.info({ store: store.name, embedder: `${embedder.model}:${embedder.dimensions}` }, 'memory module ready');

  return {
    name: 'memory',
    provides: { memory: api },
    tools: memoryTools(service),
    hooks: {
      async beforeRun(ctx) {
        const query = ctx.events
          .filter((e) => !e.sender.isBot)
          .map((e) => e.text)
          .join('\n');
        let timer: NodeJS.Timeout | undefined;
        // A span in the turn's trace: how long recall took and how much it added (counts, never the facts).
        await inSpan('memory recall', { attributes: { 'memory.store': store.name } }, async (span) => {
          try {
            const lines = await Promise.race([
              service.instructionsFor(ctx.userKey, ctx.conversationKey, ctx.sessionId, query, ctx.now, {
                visibleIn: visibleIn(ctx.ref, ctx.conversationKey),
              }),
              new Promise<never>(
                (_, reject) => (timer = setTimeout(() => reject(new Error('recall timed out')), RECALL_TIMEOUT_MS)),
              ),
            ]);
            ctx.instructions.push(...lines);
            span.setAttribute('memory.instructions', lines.length);
          } catch (err) {
            span.setAttribute('memory.failed', true);
            log.warn({ err: safeErr(err) }, 'recall failed; the turn runs without memories');
          } finally {
            clearTimeout(timer);
          }
        });
      },
      async afterCommit(ctx) {
        // Runs inside the turn's span: the extraction it schedules links back to this turn.
        const traceparent = traceparentOf();
        for (const userKey of humansOf(ctx)) await scheduler.schedule(userKey, ctx.conversationKey, traceparent);
      },
    },
    async startWorker() {
      let extractor: FactExtractor = new OfflineExtractor();
      let summariser: Summariser = new OfflineSummariser();
      if (!config.offlineModel) {
        const runner = createModelRunner(config, deps.httpFetch);
        const model = config.MEMORY_MODEL ?? config.AGENT_MODEL;
        extractor = new ModelExtractor(runner, model);
        summariser = new ModelSummariser(runner, model);
      }
      const jobDeps = {
        db: deps.database.db,
        store,
        extractor,
        summariser,
        scheduler,
        historyLimit: config.SESSION_HISTORY_LIMIT,
        log,
      };
      // Extraction is debounced over several turns of one person, so it is a trace of its own (no user text in it),
      // linked to the turn that scheduled it.
      const extract = (job: { data: ExtractionJob }) =>
        inSpan(
          'memory extract',
          { root: true, attributes: { 'memory.store': store.name }, links: linkTo(job.data.traceparent) },
          () => runExtraction(jobDeps, job.data.userKey),
        );
      const worker = new Worker<ExtractionJob>(QUEUE_MEMORY, extract, {
        connection: deps.connect() as ConnectionOptions,
        prefix: deps.keys.bullPrefix,
        concurrency: 4,
        lockDuration: 120_000, // a model call can take a while; the job is idempotent if it runs again anyway
      });
      worker.on('failed', (job, err) =>
        log.warn({ attempts: job?.attemptsMade, err: safeErr(err) }, 'memory extraction failed'),
      );
      return async () => {
        await worker.close();
      };
    },
    health: () => ({ memory: { state: 'up', detail: `${store.name}, ${embedder.model}` } }),
  };
}
