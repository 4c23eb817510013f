/** Discord's numbers, in one place. */

/** A message's `content` may hold at most 2,000 characters (bots without Nitro limits). */
export const DISCORD_MAX_MESSAGE_CHARS = 2000;

/**
 * Pacing between two sends into one channel. Discord allows bursts of 5 per 5 s per channel; one a second keeps
 * multi-part replies readable and well inside the bucket. Finer per-route limits are left to the REST client.
 */
export const DISCORD_MIN_SEND_INTERVAL_MS = 1000;

/** The typing indicator lasts ~10 s; refresh a little before it fades. */
export const DISCORD_TYPING_REFRESH_MS = 8000;

/** `nonce` may be a string of at most 25 characters. */
export const DISCORD_NONCE_MAX = 25;

/** Interaction response types and message flags used here. */
export const InteractionResponse = {
  Pong: 1,
  ChannelMessage: 4,
  DeferredChannelMessage: 5,
  AutocompleteResult: 8,
} as const;
export const MessageFlagEphemeral = 64;
