/** The local channel has no platform limit; a modest one keeps the terminal readable and exercises splitting. */
export const LOCAL_LIMITS = { maxMessageChars: 4_000, minSendIntervalMs: 0 };
