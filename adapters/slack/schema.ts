/**
 * zod schemas for what Slack sends us: Events API envelopes (HTTP or Socket Mode `events_api` payloads), the two
 * event types we act on, and the slash-command form. Objects are loose: Slack adds fields over time, and an unknown
 * field must never turn a valid delivery into a 400. Only what the mapping needs is required.
 */
import { z } from 'zod';

/** Any envelope has a string `type`; anything less is malformed. */
export const envelopeSchema = z.looseObject({ type: z.string().min(1) });

export const urlVerificationSchema = z.looseObject({
  type: z.literal('url_verification'),
  challenge: z.string().min(1),
});

export const eventCallbackSchema = z.looseObject({
  type: z.literal('event_callback'),
  team_id: z.string().min(1),
  api_app_id: z.string().optional(),
  event_id: z.string().min(1),
  event_time: z.number().optional(),
  event: z.looseObject({ type: z.string().min(1) }),
});
export type EventCallback = z.infer<typeof eventCallbackSchema>;

const fileSchema = z.looseObject({
  name: z.string().optional(),
  mimetype: z.string().optional(),
  size: z.number().optional(),
  url_private: z.string().optional(),
});

const editedSchema = z.looseObject({ user: z.string().optional(), ts: z.string().min(1) });

/** The fields a message carries, whether top-level (`message`, `app_mention`) or nested (`message_changed`). */
const messageFields = {
  user: z.string().optional(),
  bot_id: z.string().optional(),
  text: z.string().optional(),
  ts: z.string().min(1),
  thread_ts: z.string().optional(),
  subtype: z.string().optional(),
  files: z.array(fileSchema).optional(),
  edited: editedSchema.optional(),
};

export const innerMessageSchema = z.looseObject(messageFields);
export type InnerMessage = z.infer<typeof innerMessageSchema>;

export const messageEventSchema = z.looseObject({
  ...messageFields,
  type: z.literal('message'),
  channel: z.string().min(1),
  /** im | channel | group | mpim */
  channel_type: z.string().optional(),
  /** Set on `message_changed`: the message as it is now, and as it was. */
  message: innerMessageSchema.optional(),
  previous_message: z.looseObject({ text: z.string().optional() }).optional(),
});
export type MessageEvent = z.infer<typeof messageEventSchema>;

export const appMentionEventSchema = z.looseObject({
  ...messageFields,
  type: z.literal('app_mention'),
  channel: z.string().min(1),
});
export type AppMentionEvent = z.infer<typeof appMentionEventSchema>;

/** Slash command, `application/x-www-form-urlencoded` over HTTP or the `slash_commands` payload over Socket Mode. */
export const slashCommandSchema = z.looseObject({
  team_id: z.string().min(1),
  channel_id: z.string().min(1),
  user_id: z.string().min(1),
  user_name: z.string().optional(),
  command: z.string().regex(/^\/\S+$/),
  text: z.string().default(''),
  response_url: z.url({ protocol: /^https?$/ }),
  trigger_id: z.string().min(1),
});
export type SlashCommand = z.infer<typeof slashCommandSchema>;

/**
 * Interactivity: the `payload` form field over HTTP, the `interactive` envelope's payload over Socket Mode. Every
 * kind (block_actions, view_submission, shortcut, …) has a `type`; anything less is malformed.
 */
export const interactionSchema = z.looseObject({ type: z.string().min(1) });

const blockActionSchema = z.looseObject({
  /** Chosen by whoever built the blocks, not typed by the user: safe to log. */
  action_id: z.string().min(1),
  block_id: z.string().optional(),
  type: z.string().min(1),
  /** A button's value, or what the user picked or typed: never logged. */
  value: z.string().optional(),
  action_ts: z.string().optional(),
});

/** A click on a button, a menu choice, … in a message or a view. No `response_url` when it happened in a modal. */
export const blockActionsSchema = z.looseObject({
  type: z.literal('block_actions'),
  /** Null for org-wide installs; then `user.team_id` names the workspace. */
  team: z.looseObject({ id: z.string().min(1) }).nullish(),
  user: z.looseObject({ id: z.string().min(1), team_id: z.string().optional() }),
  api_app_id: z.string().optional(),
  trigger_id: z.string().min(1).optional(),
  response_url: z.url({ protocol: /^https?$/ }).optional(),
  channel: z.looseObject({ id: z.string().min(1) }).optional(),
  container: z.looseObject({ type: z.string() }).optional(),
  actions: z.array(blockActionSchema).min(1),
});
export type BlockActions = z.infer<typeof blockActionsSchema>;
