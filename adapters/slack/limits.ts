/**
 * Slack's numbers, in one place. chat.postMessage truncates `text` past 40,000 characters, but Slack recommends
 * keeping a message at or under 4,000 for readability and clients collapse longer ones; 3,900 leaves room for the
 * fences the splitter adds when it reopens a code block in the next part.
 */
export const SLACK_MAX_MESSAGE_CHARS = 3_900;

/** chat.postMessage is "special" tier: about one message per second per channel, with short bursts tolerated. */
export const SLACK_MIN_SEND_INTERVAL_MS = 1_000;

/** Slack signs every request; requests older or newer than this are refused (replay protection). */
export const SLACK_SIGNATURE_MAX_SKEW_SECONDS = 5 * 60;

/** A response_url accepts at most five posts within 30 minutes of the command. */
export const SLACK_RESPONSE_URL_MAX_POSTS = 5;

/**
 * Live answers (chat.startStream / appendStream): one update a second per stream, with at least 20 new characters,
 * keeps a busy channel well inside the per-workspace method limits; the final chat.update must not be refused.
 */
export const SLACK_STREAM_INTERVAL_MS = 1_000;
export const SLACK_STREAM_MIN_CHARS = 20;
