/**
 * `/memory` and `/forget` on a real platform path (Telegram webhook through grammY, and Discord interactions), with
 * the memory module's own extraction filling the store: users see and forget only their own memories; an admin can
 * list and forget another user's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discordPerson, startPlatforms, telegramPerson, waitFor, type Platforms } from './platforms.js';

const admin = discordPerson('Dora');
let p: Platforms;
beforeAll(async () => {
  p = await startPlatforms({ ADMIN_USERS: `discord:${admin.id}`, MEMORY_EXTRACT_DELAY_MS: '150' });
});
afterAll(async () => p?.close());

/** `who` tells the bot something and waits for its answer (so later command answers are not mixed with it). */
async function tell(who: Parameters<Platforms['dm']>[0], text: string): Promise<void> {
  const before = (await p.dmReplies(who)).length;
  await p.dm(who, text);
  await waitFor(async () => (await p.dmReplies(who)).length > before, `the answer to ${who.name}`);
}

/** Ask `/memory` until it lists something that matches (extraction runs after the turn, off the hot path). */
const memoryListing = (who: Parameters<Platforms['command']>[0], match: RegExp) =>
  waitFor(async () => {
    const text = await p.command(who, 'memory', '', { dm: true });
    return match.test(text) && text;
  }, `/memory of ${who.name} matching ${match}`);

describe('memory commands', () => {
  it('lists what the bot remembers about me, never about someone else, and forgets it on request', async () => {
    const tina = telegramPerson('Tina');
    const theo = telegramPerson('Theo');
    await tell(tina, 'remember that my dog is called Rex');
    await tell(theo, 'remember that my car is a red Volvo');

    const tinas = await memoryListing(tina, /Rex/);
    expect(tinas).toMatch(/What I remember about you\*?\*? \(1\)/);
    expect(tinas).not.toContain('Volvo');
    const theos = await memoryListing(theo, /Volvo/);
    expect(theos).not.toContain('Rex');

    // Forgetting one by id: the id another user's memory has is not mine to forget.
    const theoId = /[0-9a-f]{8}-[0-9a-f-]{27}/.exec(theos)![0];
    expect(await p.command(tina, 'forget', theoId, { dm: true })).toMatch(
      new RegExp(`I have no memory .?${theoId}.? about you`),
    );
    expect(await p.command(theo, 'memory', '', { dm: true })).toContain('Volvo');

    expect(await p.command(tina, 'forget', 'all', { dm: true })).toMatch(
      /Forgot everything I remembered about you \(1 memory\)/,
    );
    expect(await p.command(tina, 'memory', '', { dm: true })).toContain("I don't remember anything about you yet.");
    expect(await p.command(theo, 'memory', '', { dm: true })).toContain('Volvo');
  });

  it("lets an admin list and forget a user's memories with /memory @user (Discord)", async () => {
    const dave = discordPerson('Dave');
    await tell(dave, 'remember that my favourite tea is oolong');
    await memoryListing(dave, /oolong/);

    const listed = await p.command(admin, 'memory', `<@${dave.id}>`);
    expect(listed).toContain('oolong');
    expect(await p.command(admin, 'memory', `<@${dave.id}> forget all`)).toMatch(/Forgot 1 memory about/);
    expect(await p.command(dave, 'memory', '', { dm: true })).toContain("I don't remember anything about you yet.");
    // A non-admin cannot do the same to someone else.
    expect(await p.command(dave, 'memory', `<@${admin.id}>`)).toMatch(/admin/i);
  });
});
