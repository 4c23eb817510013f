/**
 * What a worker publishes while a turn runs, on the conversation's live channel (Redis pub/sub). Previews only:
 * the committed reply in the outbox stays the one answer; a lost live message costs a preview update, nothing more.
 */
import { z } from 'zod';

const common = { turnId: z.string(), eventIds: z.array(z.string()), seq: z.number() };

export const liveEventSchema = z.discriminatedUnion('type', [
  /** More text of the answer. `seq` counts the turn's events, so a subscriber can tell it missed one. */
  z.object({ type: z.literal('delta'), ...common, text: z.string() }),
  /** What was shown so far is not part of the answer (a new model response, a retried attempt): start over. */
  z.object({ type: z.literal('reset'), ...common }),
  /** The model is done (or stopped): the committed reply follows through the outbox. */
  z.object({ type: z.literal('end'), ...common, stopped: z.boolean() }),
]);
export type LiveEvent = z.infer<typeof liveEventSchema>;

export function parseLiveEvent(raw: string): LiveEvent | null {
  try {
    const r = liveEventSchema.safeParse(JSON.parse(raw));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}
