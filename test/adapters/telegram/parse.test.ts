/** The routing rules of parseUpdate that the webhook tests do not reach through their one adapter's options. */
import { describe, expect, it } from 'vitest';
import { IngressError } from '../../../src/core/errors.js';
import { parseUpdate, type ParseOptions } from '../../../adapters/telegram/parse.js';
import { commandEntity, GROUP_CHAT, message, OTHER_BOT, PRIVATE_CHAT, USER } from '../../fakes/telegram/updates.js';
import { BOT } from './helpers.js';

const defaults: ParseOptions = { edits: 'ignore', allowBots: false, groupCommandsWithoutMention: false };
const parse = (update: unknown, opts: Partial<ParseOptions> = {}) => parseUpdate(update, BOT, { ...defaults, ...opts });

describe('parseUpdate', () => {
  it('refuses malformed updates with a 400 that does not echo the payload', () => {
    for (const bad of [null, 'x', {}, { update_id: 'one' }, { update_id: 1, message: { message_id: 1 } }]) {
      let err: unknown;
      try {
        parse(bad);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(bad)).toBeInstanceOf(IngressError);
      expect((err as IngressError).status).toBe(400);
    }
  });

  it('ignores unknown update types, channel posts and service messages, with a reason', () => {
    expect(parse({ update_id: 1, my_chat_member: { x: 1 } })).toMatchObject({
      kind: 'ignored',
      reason: expect.stringContaining('my_chat_member'),
    });
    expect(parse({ update_id: 2, message: message('hi', { chat: { id: -100, type: 'channel' } }) })).toMatchObject({
      kind: 'ignored',
    });
    const service = message('', { extra: { text: undefined, new_chat_members: [USER] } });
    delete service.text;
    expect(parse({ update_id: 3, message: service })).toMatchObject({
      kind: 'ignored',
      reason: 'no text or supported attachment',
    });
  });

  it('drops other bots unless allowBots, and always its own messages', () => {
    const fromBot = { update_id: 4, message: message('hello', { from: OTHER_BOT }) };
    expect(parse(fromBot)).toMatchObject({ kind: 'ignored' });
    expect(parse(fromBot, { allowBots: true })).toMatchObject({
      kind: 'event',
      event: { sender: { isBot: true, id: String(OTHER_BOT.id) } },
    });
    const own = { update_id: 5, message: message('echo', { from: { id: BOT.id, is_bot: true, first_name: 'Me' } }) };
    expect(parse(own, { allowBots: true })).toMatchObject({ kind: 'ignored', reason: 'own message' });
  });

  it("bare group commands count only with groupCommandsWithoutMention; other bots' commands never", () => {
    const bare = {
      update_id: 6,
      message: message('/help me', { chat: GROUP_CHAT, entities: [commandEntity('/help me')] }),
    };
    expect(parse(bare)).toMatchObject({ kind: 'ignored' });
    expect(parse(bare, { groupCommandsWithoutMention: true })).toMatchObject({
      kind: 'command',
      invocation: { name: 'help', args: 'me' },
    });
    const other = {
      update_id: 7,
      message: message('/help@other_bot', { chat: PRIVATE_CHAT, entities: [commandEntity('/help@other_bot')] }),
    };
    expect(parse(other)).toMatchObject({ kind: 'ignored', reason: 'command addressed to another bot' });
    const mine = {
      update_id: 8,
      message: message('/Help@GATEWAY_TEST_BOT  a b ', {
        chat: GROUP_CHAT,
        entities: [commandEntity('/Help@GATEWAY_TEST_BOT')],
      }),
    };
    expect(parse(mine)).toMatchObject({
      kind: 'command',
      invocation: { name: 'help', args: 'a b', id: `telegram:${BOT.id}:8` },
    });
  });

  it('edits never re-run commands', () => {
    const edited = {
      update_id: 9,
      edited_message: { ...message('/help', { entities: [commandEntity('/help')] }), edit_date: 1_700_000_100 },
    };
    expect(parse(edited, { edits: 'new_turn' })).toMatchObject({
      kind: 'event',
      event: { kind: 'edit', text: '/help' },
    });
  });

  it('answers callback queries that cannot be routed', () => {
    const inline = {
      update_id: 10,
      callback_query: { id: 'q1', from: USER, chat_instance: '1', inline_message_id: 'x', data: 'd' },
    };
    expect(parse(inline)).toEqual({ kind: 'ignored', reason: expect.any(String), callbackQueryId: 'q1' });
  });
});
