/**
 * zod schemas for the parts of a Telegram Update this adapter reads (https://core.telegram.org/bots/api#update).
 * Objects are loose: Telegram adds fields with every Bot API release, and an unknown field must never turn a
 * valid update into a 400. What we do read is checked, so a malformed body is refused before it reaches the queue.
 */
import { z } from 'zod';

const int = z.number().int();

export const userSchema = z.looseObject({
  id: int,
  is_bot: z.boolean(),
  first_name: z.string(),
  last_name: z.string().optional(),
  username: z.string().optional(),
});
export type TgUser = z.infer<typeof userSchema>;

export const chatSchema = z.looseObject({
  id: int,
  type: z.enum(['private', 'group', 'supergroup', 'channel']),
  title: z.string().optional(),
  username: z.string().optional(),
  is_forum: z.boolean().optional(),
});
export type TgChat = z.infer<typeof chatSchema>;

export const entitySchema = z.looseObject({
  type: z.string(),
  offset: int.nonnegative(),
  length: int.nonnegative(),
  user: userSchema.optional(),
});
export type TgEntity = z.infer<typeof entitySchema>;

export const fileSchema = z.looseObject({
  file_id: z.string().min(1),
  file_size: z.number().optional(),
  mime_type: z.string().optional(),
  file_name: z.string().optional(),
});
export type TgFile = z.infer<typeof fileSchema>;

/** The message replied to: only who wrote it matters (and whether it is a forum topic's root). */
const repliedSchema = z.looseObject({
  message_id: int,
  from: userSchema.optional(),
  forum_topic_created: z.unknown().optional(),
});

export const messageSchema = z.looseObject({
  message_id: int,
  message_thread_id: int.optional(),
  is_topic_message: z.boolean().optional(),
  date: int,
  edit_date: int.optional(),
  chat: chatSchema,
  from: userSchema.optional(),
  reply_to_message: repliedSchema.optional(),
  text: z.string().optional(),
  entities: z.array(entitySchema).optional(),
  caption: z.string().optional(),
  caption_entities: z.array(entitySchema).optional(),
  photo: z.array(fileSchema).optional(),
  document: fileSchema.optional(),
  video: fileSchema.optional(),
  audio: fileSchema.optional(),
  voice: fileSchema.optional(),
  animation: fileSchema.optional(),
});
export type TgMessage = z.infer<typeof messageSchema>;

export const callbackQuerySchema = z.looseObject({
  id: z.string().min(1),
  from: userSchema,
  /** Absent for buttons on inline-mode messages; may be an "inaccessible message" (date 0), which still has chat. */
  message: z
    .looseObject({
      message_id: int,
      chat: chatSchema,
      message_thread_id: int.optional(),
      is_topic_message: z.boolean().optional(),
    })
    .optional(),
  data: z.string().optional(),
});
export type TgCallbackQuery = z.infer<typeof callbackQuerySchema>;

export const updateSchema = z.looseObject({
  update_id: int.nonnegative(),
  message: messageSchema.optional(),
  edited_message: messageSchema.optional(),
  callback_query: callbackQuerySchema.optional(),
});
export type TgUpdate = z.infer<typeof updateSchema>;
