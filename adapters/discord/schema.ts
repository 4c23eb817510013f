/**
 * The interaction payload as we accept it (zod); parse.ts maps it to a `CommandInvocation`. Only the fields we use
 * are declared; unknown fields pass through untouched and are ignored.
 */
import { z } from 'zod';

export interface CommandOption {
  name: string;
  type: number;
  value?: string | number | boolean | undefined;
  options?: CommandOption[] | undefined;
}

const optionSchema: z.ZodType<CommandOption> = z.lazy(() =>
  z.object({
    name: z.string(),
    type: z.number().int(),
    value: z.union([z.string(), z.number(), z.boolean()]).optional(),
    options: z.array(optionSchema).optional(),
  }),
);

const userSchema = z.object({
  id: z.string().min(1),
  username: z.string().optional(),
  global_name: z.string().nullish(),
});

export const interactionSchema = z.object({
  id: z.string().min(1),
  application_id: z.string().min(1),
  type: z.number().int(),
  token: z.string().min(1),
  guild_id: z.string().optional(),
  channel_id: z.string().optional(),
  /** Partial channel (newer payloads): tells threads apart from channels. */
  channel: z.object({ id: z.string(), type: z.number().int(), parent_id: z.string().nullish() }).optional(),
  member: z.object({ user: userSchema, nick: z.string().nullish() }).optional(),
  user: userSchema.optional(),
  data: z
    .object({
      /** Application commands. */
      name: z.string().min(1).optional(),
      type: z.number().int().optional(),
      options: z.array(optionSchema).optional(),
      /** Message components (the approval buttons): the button's id. */
      custom_id: z.string().max(100).optional(),
    })
    .optional(),
});
export type Interaction = z.infer<typeof interactionSchema>;

export const InteractionType = {
  Ping: 1,
  ApplicationCommand: 2,
  MessageComponent: 3,
  Autocomplete: 4,
  ModalSubmit: 5,
} as const;
