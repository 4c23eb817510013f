/** The adapters this process has, by platform. Workers use them to render, send and show typing. */
import type { ChannelAdapter } from './adapter.js';
import { platformOfKey, type Platform } from './types.js';

export class AdapterRegistry {
  private readonly byPlatform = new Map<Platform, ChannelAdapter>();

  constructor(adapters: ChannelAdapter[] = []) {
    for (const a of adapters) this.add(a);
  }

  add(adapter: ChannelAdapter): void {
    if (this.byPlatform.has(adapter.platform)) throw new Error(`two adapters for ${adapter.platform}`);
    this.byPlatform.set(adapter.platform, adapter);
  }

  get(platform: Platform): ChannelAdapter | undefined {
    return this.byPlatform.get(platform);
  }

  /** The adapter of a conversation, by its key. */
  forConversation(conversationKey: string): ChannelAdapter | undefined {
    return this.get(platformOfKey(conversationKey));
  }

  all(): ChannelAdapter[] {
    return [...this.byPlatform.values()];
  }
}
