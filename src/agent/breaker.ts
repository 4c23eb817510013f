/**
 * A circuit breaker around the model provider (opossum). After repeated failures it opens: turns get a short
 * notice at once instead of hanging through retries, their messages stay in the session, and a half-open probe
 * after `resetTimeout` closes it again when the provider is back. One breaker per worker process.
 */
import CircuitBreaker from 'opossum';
import type { Logger } from 'pino';
import type { AgentRuntime } from './runtime.js';

export const BREAKER_OPEN_NOTICE =
  "I can't reach my language model right now. Your message is saved; please try again in a few minutes.";

export class ModelUnavailableError extends Error {
  override name = 'ModelUnavailableError';
}

export interface BreakerOptions {
  /** Failures (after the runtime's own retries) within the rolling window that open the circuit. */
  volumeThreshold?: number;
  errorThresholdPercentage?: number;
  resetTimeoutMs?: number;
}

export function withCircuitBreaker(
  runtime: AgentRuntime,
  log: Logger,
  o: BreakerOptions = {},
): AgentRuntime & { breaker: CircuitBreaker } {
  const breaker = new CircuitBreaker((...args: Parameters<AgentRuntime['run']>) => runtime.run(...args), {
    timeout: false, // the runtime has its own per-call timeout
    errorThresholdPercentage: o.errorThresholdPercentage ?? 50,
    volumeThreshold: o.volumeThreshold ?? 3,
    resetTimeout: o.resetTimeoutMs ?? 30_000,
    rollingCountTimeout: 60_000,
  });
  breaker.on('open', () => log.error('model circuit breaker OPEN: answering with a notice until a probe succeeds'));
  breaker.on('halfOpen', () => log.warn('model circuit breaker half-open: probing the provider'));
  breaker.on('close', () => log.info('model circuit breaker closed: provider healthy again'));
  return {
    modelName: runtime.modelName,
    offline: runtime.offline,
    breaker,
    // A decision resumes a run the model already started: not counted against (or refused by) the breaker.
    resume: (...args) => runtime.resume(...args),
    async run(...args) {
      try {
        return await breaker.fire(...args);
      } catch (err) {
        if (breaker.opened && (err as { code?: string }).code === 'EOPENBREAKER')
          throw new ModelUnavailableError('circuit open');
        throw err;
      }
    },
  };
}
