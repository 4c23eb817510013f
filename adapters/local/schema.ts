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
  /** May be empty when files are attached. */
  text: z.string(),
  /** Files: an http(s) URL on ATTACHMENT_URL_HOSTS or a `data:` URL (at most ATTACHMENT_MAX_BYTES each). */
  attachments: z
    .array(
      z.object({
        url: z.string().regex(/^(https?:|data:)/, 'an http(s) or data: URL'),
        name: z.string().max(200).optional(),
        mimeType: z.string().max(200).optional(),
      }),
    )
    .max(20)
    .default([]),
  /** Client-chosen id, for idempotent retries from the client; else one is generated. */
  id: z.string().min(1).max(200).optional(),
  kind: z.enum(['dm', 'group']).default('group'),
  wait: z.boolean().default(false),
});
export const localMessageBodySchema = localMessageSchema.refine((m) => m.text.length > 0 || m.attachments.length > 0, {
  message: 'text or attachments required',
  path: ['text'],
});
export type LocalMessage = z.infer<typeof localMessageSchema>;
