/** The local channel's API key check (required in production), in constant time: the shared check in core. */
export { apiKeyMatches } from '../../src/core/api-key.js';
