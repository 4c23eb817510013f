/** What a turn's outcome means for the API run it answered. */
/**
 * Turn outcome -> run status. A turn the gateway refused or the model failed is an error with a reason the client can
 * act on (a rate-limited run is not a "success" with no answer); everything else answered.
 */
const REFUSALS: Record<string, string> = {
  apology: 'the model failed after retries; the thread holds an apology message',
  rate_limited: 'rate limited: this user sent more messages a minute than the gateway allows; retry later',
  budget: 'the daily token budget is spent; retry tomorrow or ask an admin',
  agent_budget: "the agent's daily token budget is spent",
  banned: 'this user is banned from the gateway',
  too_long: 'the input is longer than the gateway accepts',
  dead_letter: 'the turn failed repeatedly and was set aside for an admin',
};
export function runResultOf(outcome: string): { status: 'success' | 'error'; error: string | null } {
  const error = REFUSALS[outcome];
  return error ? { status: 'error', error } : { status: 'success', error: null };
}
