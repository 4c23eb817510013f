/** The local channel shows markdown as written; parts are only split to its limit. */
import { splitMessage } from '../kit/split.js';
import { LOCAL_LIMITS } from './limits.js';

export function renderLocal(markdown: string): string[] {
  return splitMessage(markdown, LOCAL_LIMITS.maxMessageChars);
}
