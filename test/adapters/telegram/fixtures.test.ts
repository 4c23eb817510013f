/** The recorded Telegram variants (test/fixtures/telegram) through the adapter's parser. */
import { describe, expect, it } from 'vitest';
import { parseUpdate, type ParseOptions } from '../../../adapters/telegram/parse.js';
import { BOT, fixture } from './helpers.js';

const opts: ParseOptions = { edits: 'ignore', allowBots: false, groupCommandsWithoutMention: false };

describe('recorded Telegram updates', () => {
  it('a supergroup message that @mentions the bot is a group event without the mention', () => {
    expect(parseUpdate(fixture('update_message_group_mention.json'), BOT, opts)).toMatchObject({
      kind: 'event',
      event: {
        id: `telegram:${BOT.id}:10003`,
        mentionsBot: true,
        text: expect.stringContaining('what is on the agenda today?'),
        conversation: { platform: 'telegram', kind: 'group', channel: '-1001234567890' },
      },
    });
  });

  it('a photo with a caption keeps the caption and the largest size', () => {
    const out = parseUpdate(fixture('update_message_photo.json'), BOT, opts);
    expect(out).toMatchObject({
      kind: 'event',
      event: { text: 'what is in this picture?', conversation: { kind: 'dm' } },
    });
    const event = (out as { event: { attachments: { mimeType?: string; size?: number }[] } }).event;
    expect(event.attachments).toHaveLength(1);
    expect(event.attachments[0]).toMatchObject({ mimeType: 'image/jpeg', size: 81244 });
  });

  it('a voice note without text is still an event, with the audio attached', () => {
    const out = parseUpdate(fixture('update_message_voice.json'), BOT, opts);
    expect(out).toMatchObject({ kind: 'event', event: { attachments: [{ mimeType: 'audio/ogg', size: 10844 }] } });
  });
});
