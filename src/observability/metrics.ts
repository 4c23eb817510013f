/** Prometheus metrics (prom-client), one registry per process, served at /metrics. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
// The event-loop delay histogram samples on a timer: prom-client's default of every 10 ms wakes an idle process
// 100 times a second (most of its idle CPU); every 100 ms still shows what a dashboard needs, a blocked loop.
collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });

export const inboundEvents = new Counter({
  name: 'gateway_inbound_events_total',
  help: 'Inbound events by platform and outcome (accepted, duplicate, refused)',
  labelNames: ['platform', 'outcome'] as const,
  registers: [registry],
});

export const turnsTotal = new Counter({
  name: 'gateway_turns_total',
  help: 'Committed turns by outcome (replied, silent, apology)',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

export const turnSeconds = new Histogram({
  name: 'gateway_turn_duration_seconds',
  help: 'Agent turn duration',
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  registers: [registry],
});

export const outboundParts = new Counter({
  name: 'gateway_outbound_parts_total',
  help: 'Outbound message parts by platform and result (sent, failed, rate_limited)',
  labelNames: ['platform', 'result'] as const,
  registers: [registry],
});

export const modelTokens = new Counter({
  name: 'gateway_model_tokens_total',
  help: 'Model tokens by direction (input, output)',
  labelNames: ['direction'] as const,
  registers: [registry],
});

export const modelErrors = new Counter({
  name: 'gateway_model_errors_total',
  help: 'Turns whose model call failed after retries, or was refused by the open circuit breaker',
  labelNames: ['reason'] as const,
  registers: [registry],
});

export const queueDepth = new Gauge({
  name: 'gateway_queue_depth',
  help: 'Jobs per queue and state (sampled at scrape)',
  labelNames: ['queue', 'state'] as const,
  registers: [registry],
});

export const queueLagSeconds = new Gauge({
  name: 'gateway_queue_lag_seconds',
  help: 'Age of the oldest waiting job per queue (sampled at scrape)',
  labelNames: ['queue'] as const,
  registers: [registry],
});

export const dbRetries = new Counter({
  name: 'gateway_db_serialization_retries_total',
  help: 'Transactions retried after SQLSTATE 40001 (serialization failure) or a deadlock',
  registers: [registry],
});

export const shardsHeld = new Gauge({
  name: 'gateway_shards_held',
  help: 'Gateway connection shards this process holds, by platform',
  labelNames: ['platform'] as const,
  registers: [registry],
});

export const shardLatencySeconds = new Gauge({
  name: 'gateway_shard_latency_seconds',
  help: 'Heartbeat round trip of each shard this process holds',
  labelNames: ['platform', 'shard'] as const,
  registers: [registry],
});

export const shardResumes = new Counter({
  name: 'gateway_shard_resumes_total',
  help: 'Gateway sessions resumed (instead of re-identified) by shard',
  labelNames: ['platform', 'shard'] as const,
  registers: [registry],
});
