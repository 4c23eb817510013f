import { describe, expect, it } from 'vitest';
import { conversationKey, type ConversationRef } from '../../src/core/types.js';

const ref = (r: Partial<ConversationRef>): ConversationRef => ({
  platform: 'slack',
  tenant: 'T1',
  channel: 'C1',
  kind: 'group',
  ...r,
});

describe('session key rule', () => {
  it('DM: one session per user, whatever the DM channel id', () => {
    expect(conversationKey(ref({ kind: 'dm', channel: 'D1', user: 'U1' }))).toBe('slack:T1:dm:U1');
    expect(conversationKey(ref({ kind: 'dm', channel: 'D2', user: 'U1' }))).toBe(
      conversationKey(ref({ kind: 'dm', channel: 'D1', user: 'U1' })),
    );
  });
  it('channel: one session per channel; thread: one per thread', () => {
    expect(conversationKey(ref({}))).toBe('slack:T1:C1');
    expect(conversationKey(ref({ thread: '171.1' }))).toBe('slack:T1:C1:171.1');
    expect(conversationKey(ref({ thread: '171.1' }))).not.toBe(conversationKey(ref({ thread: '171.2' })));
  });
  it('tenants and platforms never share sessions', () => {
    expect(conversationKey(ref({ tenant: 'T2' }))).not.toBe(conversationKey(ref({})));
    expect(conversationKey(ref({ platform: 'discord' }))).not.toBe(conversationKey(ref({})));
  });
});
