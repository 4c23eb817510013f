/**
 * Configuration from environment variables, validated with zod at start-up. A missing or invalid variable stops
 * the process with a message naming it. `.env.example` documents every variable; keep the two in step.
 */
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'on', 'off', 'yes', 'no'])
  .transform((v) => ['true', '1', 'on', 'yes'].includes(v));
const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);
/** `platform:userId` entries, comma-separated (any tenant). */
const principalList = z
  .string()
  .default('')
  .transform((v) =>
    v
      .split(',')
      .map((u) => u.trim())
      .filter(Boolean),
  )
  .pipe(
    z.array(z.string().regex(/^(local|slack|discord|telegram|api):\S+$/, 'a comma-separated list of platform:userId')),
  );

export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  ROLE: z.enum(['all', 'gateway', 'worker', 'migrate']).default('all'),
  HOST: z.string().default('127.0.0.1'),
  PORT: int(8080),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Postgres / CockroachDB URL. Unset in development: an embedded Postgres is started. */
  DATABASE_URL: z.string().url().optional(),
  /**
   * Connections per process. Few, on purpose: postgres.js pipelines statements on a busy connection, so fewer
   * connections send more statements per write (README, "Sizing workers": 4 against 20 cut the database's CPU
   * per turn by a quarter). A turn holds one only for its reads and its commit, not while the model runs.
   */
  DATABASE_POOL_SIZE: int(4, 1),
  /** Unset in development: a redis-server is spawned on a free port. */
  REDIS_URL: z.string().url().optional(),
  /** Prefix of every Redis key (BullMQ queues, inboxes, dedupe, leases): lets several gateways share a Redis. */
  KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('gw'),
  DATA_DIR: z.string().default('.data'),
  /** Development as root: where the embedded Postgres keeps what the postgres user cannot reach under DATA_DIR. */
  EMBEDDED_PG_RUNTIME_DIR: z.string().default('/var/lib/chat-gateway'),

  OPENAI_API_KEY: z.string().optional(),
  OPENAI_BASE_URL: z.string().url().optional(),
  /**
   * Most connections per host the HTTP client keeps (model provider, Slack Web API; src/core/http-fetch.ts). 0: no
   * limit, one per concurrent request. A cap makes further calls wait for a free connection: for a self-hosted
   * model server (vLLM, Ollama) that serves only so many requests at once.
   */
  HTTP_CONNECTIONS_PER_HOST: int(0, 0),
  OPENAI_API: z.enum(['chat_completions', 'responses']).default('responses'),
  AGENT_MODEL: z.string().default('gpt-4.1-mini'),
  AGENT_NAME: z.string().default('Assistant'),
  AGENT_INSTRUCTIONS: z.string().default('You are a helpful assistant in a team chat. Answer concisely in markdown.'),
  /** Agents as configuration: a YAML file of agents and routing rules (src/agents). Unset: the AGENT_* variables. */
  AGENTS_FILE: z.string().optional(),
  /** Force the offline deterministic model even when a key is set (tests, demos). */
  OFFLINE_MODEL: bool.default(false),
  MODEL_RETRIES: int(3),
  MODEL_TIMEOUT_MS: int(60_000, 1000),
  /** Failed turns (after retries) in a minute that open the model circuit breaker. */
  MODEL_BREAKER_THRESHOLD: int(5, 1),
  /** How long the breaker stays open before a half-open probe. */
  MODEL_BREAKER_RESET_MS: int(30_000, 100),

  SESSION_HISTORY_LIMIT: int(40, 1),
  MAX_INPUT_CHARS: int(16_000, 1),
  /** Attachments kept per inbound event, and their total metadata size (names, types, URLs); the rest are dropped. */
  MAX_ATTACHMENTS: int(10, 0),
  MAX_ATTACHMENT_BYTES: int(16_384, 256),
  /** Files read at turn time (src/attachments): the most bytes downloaded per file; bigger ones are refused politely. */
  ATTACHMENT_MAX_BYTES: int(5 * 1024 * 1024, 1024),
  /** Text files up to this size are put in front of the model; bigger ones are described. */
  ATTACHMENT_TEXT_MAX_BYTES: int(64 * 1024, 0),
  ATTACHMENT_FETCH_TIMEOUT_MS: int(20_000, 100),
  /** Hosts (https) or origins the local channel and the agent API may name by URL; unset: data: URLs only. */
  ATTACHMENT_URL_HOSTS: z.string().default(''),
  /** Whether the model takes image input (the agents file's `images` overrides it per agent). */
  MODEL_ACCEPTS_IMAGES: bool.default(true),
  /** Voice notes: an OpenAI-compatible /audio/transcriptions model (e.g. whisper-1); unset: not transcribed. */
  TRANSCRIPTION_MODEL: z.string().optional(),
  /** Where that endpoint is (default OPENAI_BASE_URL, else OpenAI); the key is OPENAI_API_KEY. */
  TRANSCRIPTION_BASE_URL: z.string().url().optional(),
  /** A turn failing this many times for a reason retrying cannot fix (bad data, not an outage) is dead-lettered. */
  DEADLETTER_AFTER_ATTEMPTS: int(5, 2),
  TURN_BATCH_MAX: int(50, 1),
  /** Turns in flight per worker process (they mostly wait for the model); lowered under back-pressure. */
  WORKER_CONCURRENCY: int(1000, 1),
  /**
   * Back-pressure (src/worker/backpressure.ts): above this RSS or event-loop lag a worker takes fewer turns. Unset:
   * 75% of the container's memory limit, or 1536 without one.
   */
  WORKER_MAX_RSS_MB: z.coerce.number().int().min(0).optional(),
  WORKER_MAX_LOOP_DELAY_MS: int(0, 0),
  OUTBOUND_CONCURRENCY: int(32, 1),
  DEDUPE_TTL_SECONDS: int(7 * 24 * 3600, 60),
  SHUTDOWN_GRACE_MS: int(20_000, 0),
  /** BullMQ job lock: how long before a killed worker's turn is taken over by another worker. */
  JOB_LOCK_MS: int(30_000, 1_000),
  /** How often workers sweep for inboxes without a turn job and replies without a delivery job. */
  SWEEP_INTERVAL_MS: int(15_000, 200),

  /** Traces (src/observability/tracing.ts): on when an OTLP endpoint is set, or TRACING=on (localhost:4318). */
  TRACING: bool.default(false),
  /** OTLP/HTTP base URL (`/v1/traces` is appended); the standard OpenTelemetry variable. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().optional(),
  /** Full OTLP/HTTP traces URL, used as given (wins over the base URL). */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.string().url().optional(),
  OTEL_SERVICE_NAME: z.string().min(1).default('chat-gateway'),
  /** Longest a finished span is buffered before export, in ms. */
  OTEL_BSP_SCHEDULE_DELAY: int(5_000, 1),

  SLACK_BOT_TOKEN: z.string().optional(),
  SLACK_SIGNING_SECRET: z.string().optional(),
  SLACK_APP_TOKEN: z.string().optional(),
  SLACK_API_URL: z.string().url().optional(),
  SLACK_BOT_USER_ID: z.string().optional(),
  SLACK_EVENTS_PATH: z.string().startsWith('/').default('/slack/events'),
  SLACK_COMMANDS_PATH: z.string().startsWith('/').default('/slack/commands'),
  SLACK_ALLOW_BOTS: bool.default(false),
  SLACK_EDITS: z.enum(['ignore', 'new_turn']).default('ignore'),
  SLACK_REPLY_IN_THREAD: bool.default(true),
  /** Slack OAuth install flow (many workspaces): all of these, with SLACK_SIGNING_SECRET, turn it on. */
  SLACK_CLIENT_ID: z.string().optional(),
  SLACK_CLIENT_SECRET: z.string().optional(),
  /** Signs the OAuth `state` parameter (at least 32 characters). */
  SLACK_STATE_SECRET: z.string().min(32).optional(),
  /** 32 bytes (64 hex digits or base64): seals installed workspaces' tokens at rest. */
  SLACK_TOKEN_ENCRYPTION_KEY: z.string().optional(),
  /** Comma-separated earlier keys, still read during a rotation (`rotate-token-key` re-seals under the current one). */
  SLACK_TOKEN_ENCRYPTION_KEY_PREVIOUS: z.string().optional(),
  SLACK_SCOPES: z
    .string()
    .default(
      'app_mentions:read,chat:write,im:history,im:read,channels:history,groups:history,reactions:write,commands',
    ),
  SLACK_INSTALL_PATH: z.string().startsWith('/').default('/slack/install'),
  SLACK_REDIRECT_PATH: z.string().startsWith('/').default('/slack/oauth_redirect'),
  /** The public URL of SLACK_REDIRECT_PATH, when the app lists several redirect URLs. */
  SLACK_REDIRECT_URI: z.string().url().optional(),
  /** Where users authorize the app (tests point it at the loopback fake). */
  SLACK_AUTHORIZE_URL: z.string().url().optional(),

  DISCORD_TOKEN: z.string().optional(),
  DISCORD_APPLICATION_ID: z.string().optional(),
  DISCORD_PUBLIC_KEY: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, 'a 64-character hex Ed25519 public key')
    .optional(),
  DISCORD_API_URL: z.string().url().optional(),
  DISCORD_GATEWAY: bool.default(true),
  DISCORD_REQUIRE_MENTION: bool.default(true),
  DISCORD_ALLOW_BOTS: bool.default(false),
  DISCORD_INTERACTIONS_PATH: z.string().startsWith('/').default('/discord/interactions'),
  DISCORD_PUBLIC_COMMANDS: z.string().optional(),
  DISCORD_LEASE_TTL_MS: int(15_000, 1_000),
  /** Gateway shards; unset: Discord's recommendation (`GET /gateway/bot`). */
  DISCORD_SHARD_COUNT: z.coerce.number().int().min(1).max(4096).optional(),
  DISCORD_GUILD_ID: z.string().optional(),
  /** Gateways publish the command list to Discord and Telegram at start-up (also: `npm run commands:register`). */
  COMMANDS_REGISTER_ON_START: bool.default(true),

  TELEGRAM_BOT_TOKEN: z.string().optional(),
  TELEGRAM_MODE: z.enum(['webhook', 'polling']).default('polling'),
  TELEGRAM_WEBHOOK_SECRET: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,256}$/, 'letters, digits, _ and - only (Telegram rule)')
    .optional(),
  TELEGRAM_WEBHOOK_PATH: z.string().startsWith('/').default('/telegram/webhook'),
  TELEGRAM_WEBHOOK_URL: z.string().url().optional(),
  TELEGRAM_API_ROOT: z.string().url().optional(),
  TELEGRAM_EDITS: z.enum(['ignore', 'new_turn']).default('ignore'),
  TELEGRAM_ALLOW_BOTS: bool.default(false),
  TELEGRAM_GROUP_COMMANDS_WITHOUT_MENTION: bool.default(false),
  TELEGRAM_LEASE_TTL_MS: int(15_000, 1_000),
  TELEGRAM_POLL_TIMEOUT_SECONDS: int(30, 0),

  /**
   * Extra bots added at run time (PUT /admin/bots/<platform>/<name>, ADMIN_API_KEY): their tokens are sealed with
   * this key (32 bytes, hex or base64; default SLACK_TOKEN_ENCRYPTION_KEY). Unset: no extra bots.
   */
  BOT_TOKEN_ENCRYPTION_KEY: z.string().optional(),
  /**
   * Fallback re-read of the extra bots: an add or remove is announced to every replica over Redis at once; this
   * catches an announcement a replica missed (say, while its Redis connection was down).
   */
  BOTS_SYNC_MS: int(5_000, 100),
  /**
   * Platforms that take added bots even without a bot in the environment (comma-separated: `telegram,discord`).
   * A platform whose environment bot is set always takes them.
   */
  BOTS_PLATFORMS: z
    .string()
    .regex(/^((telegram|discord)(,(telegram|discord))*)?$/, 'a comma-separated list of telegram, discord')
    .default(''),

  // --- memory (src/memory) ---
  /** Long-term memory (recall each turn, extraction after turns, tools). */
  MEMORY_ENABLED: bool.default(true),
  /** Qdrant (production store). Unset: memories live in Postgres / CockroachDB (exact per-user search). */
  QDRANT_URL: z.string().url().optional(),
  QDRANT_API_KEY: z.string().optional(),
  /** OpenAI embeddings model (same provider settings as the agent); `wordvec` / `lexical`: an offline embedder. */
  EMBEDDING_MODEL: z.string().default('text-embedding-3-small'),
  /** Shorter text-embedding-3 vectors (e.g. 256): smaller rows, faster embedded-store scans. Unset: the model's own. */
  EMBEDDING_DIMENSIONS: z.coerce.number().int().min(8).max(8192).optional(),
  /** Model for fact extraction and summaries (default: AGENT_MODEL). */
  MEMORY_MODEL: z.string().optional(),
  /** Extraction runs this long after the first turn of a burst (one job per user per burst). */
  MEMORY_EXTRACT_DELAY_MS: int(10_000),
  /** Most memories given to the agent per turn, and their total size. */
  MEMORY_RECALL_LIMIT: int(8, 1),
  MEMORY_RECALL_MAX_CHARS: int(2_000, 100),
  /** Recall weighs newer memories up: a memory this many days old counts about 15% less than a new one. */
  MEMORY_RECENCY_HALF_LIFE_DAYS: int(30, 1),

  // --- scheduler (src/scheduler) ---
  /** How often the lease holder re-mirrors check-ins, reminders and scheduled messages from the database to Redis. */
  SCHEDULER_RECONCILE_MS: int(60_000, 1_000),
  SCHEDULER_LEASE_TTL_MS: int(15_000, 1_000),
  /** A scheduled job later than this is a catch-up after downtime: at most one per check-in. */
  SCHEDULER_CATCHUP_WINDOW_MS: int(600_000, 1_000),
  SCHEDULER_CONCURRENCY: int(32, 1),
  /** Session items a check-in turn sees (lean context). */
  SCHEDULER_CHECKIN_HISTORY: int(6, 1),
  /** Default tokens a check-in may spend per local day (0 = no limit). */
  SCHEDULER_CHECKIN_TOKEN_BUDGET: int(4_000, 0),
  /** Timezone for users who never set one (reminders, check-ins). */
  SCHEDULER_DEFAULT_TIMEZONE: z
    .string()
    .default('UTC')
    .refine((tz) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    }, 'an IANA timezone such as Europe/Berlin'),
  /** Announcement fan-out: most synthetic sends per second per platform (Telegram allows ~30/s per bot). */
  SCHEDULER_FANOUT_PER_SECOND: int(25, 1),
  /** A check-in nobody answered is not followed by another until the user writes again (no token burn on idle users). */
  SCHEDULER_SKIP_UNANSWERED: bool.default(true),

  // --- access control and commands (src/access) ---
  /** Owners and admins, as `platform:userId` lists (any tenant): `slack:U123,discord:456,telegram:789,local:ann`. */
  OWNER_USERS: principalList,
  ADMIN_USERS: principalList,
  /** Who may DM the bot: everyone, only allowed users (and admins), or unknown users get a pairing code. */
  DM_POLICY: z.enum(['open', 'allowlist', 'pairing']).default('open'),
  DM_POLICY_LOCAL: z.enum(['open', 'allowlist', 'pairing']).optional(),
  DM_POLICY_SLACK: z.enum(['open', 'allowlist', 'pairing']).optional(),
  DM_POLICY_DISCORD: z.enum(['open', 'allowlist', 'pairing']).optional(),
  DM_POLICY_TELEGRAM: z.enum(['open', 'allowlist', 'pairing']).optional(),
  PAIRING_CODE_TTL_SECONDS: int(600, 1),
  /** Per-user token bucket over messages (0 = off): refill per minute, and the burst it allows. */
  RATE_LIMIT_PER_MINUTE: int(20),
  RATE_LIMIT_BURST: int(20, 1),
  /** Bot-loop guard: most replies per conversation per minute (0 = off). */
  BOT_LOOP_MAX_REPLIES_PER_MINUTE: int(30),
  /** Tokens (input + output) one user may spend per UTC day (0 = unlimited). */
  USER_DAILY_TOKEN_BUDGET: int(0),
  /** Prices per 1,000 tokens, for the cost shown by `/usage all` (in your currency; 0 = not shown). */
  USAGE_PRICE_INPUT_PER_1K: z.coerce.number().min(0).default(0),
  USAGE_PRICE_OUTPUT_PER_1K: z.coerce.number().min(0).default(0),
  /** While paused, how often a held conversation looks again (resume also wakes them at once). */
  PAUSE_RECHECK_MS: int(15_000, 100),
  /** Broadcast fan-out: conversations whose delivery starts per second. */
  BROADCAST_PER_SECOND: int(10, 1),

  // --- agent API and web chat (src/api) ---
  /** The agent API (LangGraph SDK wire format / Agent Protocol) under API_PREFIX; keys come from `npm run api-keys`. */
  API_ENABLED: bool.default(true),
  API_PREFIX: z
    .string()
    .regex(/^\/[A-Za-z0-9_\-/]*[A-Za-z0-9_-]$/, 'a path like /api, no trailing slash')
    .default('/api'),
  /** Per-key token bucket: sustained requests per minute and the burst allowed on top. */
  API_RATE_LIMIT_PER_MINUTE: int(600, 1),
  API_RATE_BURST: int(60, 1),
  /** How long `runs/wait`, `join` and streams wait for a run before giving up (the run itself continues). */
  API_WAIT_TIMEOUT_MS: int(300_000, 100),
  /** SSE heartbeat comment interval while a streamed run is working. */
  API_HEARTBEAT_MS: int(10_000, 50),
  /** Workers do not stream tokens: a finished answer is streamed as message-tuple deltas of about this size. */
  API_STREAM_CHUNK_CHARS: int(32, 1),
  /** How often workers heal API runs left behind by a crash (unsubmitted, or committed but not finalized). */
  API_SWEEP_INTERVAL_MS: int(5_000, 200),
  /** The web chat page (plain HTML + JS using only the public API): default on in development, off in production. */
  WEB_CHAT: bool.optional(),
  WEB_CHAT_PATH: z
    .string()
    .regex(/^\/[A-Za-z0-9_\-/]*[A-Za-z0-9_-]$/, 'a path like /chat, no trailing slash')
    .default('/chat'),

  /** Protects /admin/queues (Bull Board). Unset: the board is served only in development. */
  ADMIN_API_KEY: z.string().min(16).optional(),

  LOCAL_CHANNEL: bool.optional(),
  LOCAL_API_KEY: z.string().min(16).optional(),
  LOCAL_WAIT_TIMEOUT_MS: int(30_000, 100),
  /** Most long-polls (GET /local/conversations/:c/messages?waitMs) one gateway keeps open; past it, 429 at once. */
  LOCAL_POLL_MAX: int(1_000, 1),
  /** How long a tool call waits for a person's Approve / Reject before it expires (nothing is done). */
  APPROVAL_TIMEOUT_MS: int(15 * 60_000, 500),
  /** Platforms that show no live preview of answers being written (comma-separated), e.g. `discord,telegram`. */
  LIVE_PREVIEWS_OFF: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((p) => p.trim().toLowerCase())
        .filter(Boolean),
    ),
});

export type Env = z.infer<typeof envSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface Config extends Env {
  isProduction: boolean;
  /** The local channel is on by default in development, off in production unless enabled (then keyed). */
  localChannelEnabled: boolean;
  offlineModel: boolean;
  /** The Slack OAuth install flow is configured (many workspaces). */
  slackOAuth: boolean;
}

export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const env = parsed.data;
  const isProduction = env.NODE_ENV === 'production';
  const localChannelEnabled = env.LOCAL_CHANNEL ?? !isProduction;
  if (isProduction && localChannelEnabled && !env.LOCAL_API_KEY) {
    throw new ConfigError('invalid configuration:\n  LOCAL_API_KEY: required when LOCAL_CHANNEL is on in production');
  }
  if (env.SLACK_BOT_TOKEN && !env.SLACK_SIGNING_SECRET && !env.SLACK_APP_TOKEN) {
    throw new ConfigError(
      'invalid configuration:\n  SLACK_SIGNING_SECRET: required with SLACK_BOT_TOKEN (or set SLACK_APP_TOKEN for Socket Mode)',
    );
  }
  const slackOAuth = [env.SLACK_CLIENT_ID, env.SLACK_CLIENT_SECRET, env.SLACK_STATE_SECRET];
  if (
    slackOAuth.some(Boolean) &&
    !(slackOAuth.every(Boolean) && env.SLACK_SIGNING_SECRET && env.SLACK_TOKEN_ENCRYPTION_KEY)
  ) {
    throw new ConfigError(
      'invalid configuration:\n  SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, SLACK_STATE_SECRET, SLACK_SIGNING_SECRET, SLACK_TOKEN_ENCRYPTION_KEY: all required for the Slack install flow',
    );
  }
  if (env.DISCORD_TOKEN && (!env.DISCORD_APPLICATION_ID || !env.DISCORD_PUBLIC_KEY)) {
    throw new ConfigError(
      'invalid configuration:\n  DISCORD_APPLICATION_ID, DISCORD_PUBLIC_KEY: required with DISCORD_TOKEN',
    );
  }
  if (env.TELEGRAM_BOT_TOKEN && env.TELEGRAM_MODE === 'webhook' && !env.TELEGRAM_WEBHOOK_SECRET) {
    throw new ConfigError('invalid configuration:\n  TELEGRAM_WEBHOOK_SECRET: required when TELEGRAM_MODE=webhook');
  }
  if (isProduction && !env.DATABASE_URL)
    throw new ConfigError('invalid configuration:\n  DATABASE_URL: required in production');
  if (isProduction && !env.REDIS_URL)
    throw new ConfigError('invalid configuration:\n  REDIS_URL: required in production');
  return {
    ...env,
    isProduction,
    localChannelEnabled,
    offlineModel: env.OFFLINE_MODEL || !env.OPENAI_API_KEY,
    slackOAuth: Boolean(env.SLACK_CLIENT_ID),
  };
}
