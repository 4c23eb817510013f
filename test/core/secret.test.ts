/** The one constant-time comparison every adapter, the agent API's key check and the queue board use. */
import { describe, expect, it } from 'vitest';
import { secretsEqual } from '../../src/core/api-key.js';

describe('secretsEqual', () => {
  it('accepts the same secret, as string or bytes', () => {
    expect(secretsEqual('s3cret-token', 's3cret-token')).toBe(true);
    expect(secretsEqual(Buffer.from('ab', 'hex'), Buffer.from('ab', 'hex'))).toBe(true);
  });

  it('refuses a different secret whatever its length, and a missing or empty one', () => {
    for (const given of ['s3cret-tokem', 's3cret-token-and-more', 's', '', undefined]) {
      expect(secretsEqual(given, 's3cret-token')).toBe(false);
    }
  });

  it('never matches an empty expected secret (an unconfigured secret is not the empty string)', () => {
    expect(secretsEqual('', '')).toBe(false);
    expect(secretsEqual('x', '')).toBe(false);
  });
});
