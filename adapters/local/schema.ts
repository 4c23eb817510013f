/** The local channel's HTTP body: validated with zod; unknown fields are ignored. */
import { z } from 'zod';

export const localMessageSchema = z.object({
  conversation: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[\w.:@-]+$/, 'letters, digits and _ . : @ - only'),
  user: z.string().min(1).max(200),
  name: z.string().max(200).optional(),
  text: z.string().min(1),
  /** Client-chosen id, for idempotent retries from the client; else one is generated. */
  id: z.string().min(1).max(200).optional(),
  kind: z.enum(['dm', 'group']).default('group'),
  wait: z.boolean().default(false),
});
export type LocalMessage = z.infer<typeof localMessageSchema>;
