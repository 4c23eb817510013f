/**
 * The fast tier of the adapter contract: no Redis, no Postgres, no worker. Every adapter runs it:
 * - each recorded payload in test/fixtures/<platform>/ goes through the adapter's own parsing / ingress code into an
 *   in-memory sink and must come out as the event, command or nothing its expectation says; a new fixture without
 *   an expectation fails the suite;
 * - rendering keeps every part within the platform's limit, code fences balanced, nothing lost;
 * - what the platform answers to a send (through the real SDK against its loopback fake) maps to the pipeline's
 *   errors: HTTP 429 -> RateLimitedError with the retry-after, a blocked bot or a gone chat -> PermanentSendError.
 * The end-to-end tier (adapter-contract.ts) covers the same adapters through the whole pipeline.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { longReply } from '../../src/agent/offline-model.js';
import type { ChannelAdapter, CommandInvocation, CommandResult, IngressSink } from '../../src/core/adapter.js';
import { PermanentSendError, RateLimitedError } from '../../src/core/errors.js';
import { conversationRefSchema, inboundEventSchema } from '../../src/core/types.js';
import type { ConversationRef, InboundEvent } from '../../src/core/types.js';
import { pino } from 'pino';
import type { ThreadMemory } from '../../adapters/kit/thread-tracker.js';

/** What one payload gave the pipeline. */
export type Parsed =
  | { kind: 'event'; event: InboundEvent }
  | { kind: 'command'; invocation: CommandInvocation }
  /** Acknowledged, nothing for the pipeline (a handshake, a button click, a message not addressed to the bot). */
  | { kind: 'none' };

export type Expectation =
  | { kind: 'event'; conversation: 'dm' | 'group'; text: string; mentionsBot?: boolean; thread?: boolean }
  | { kind: 'command'; name: string }
  | { kind: 'none' };

export type SendRefusal = 'rate_limited' | 'blocked' | 'gone';

export interface FastHarness {
  adapter: ChannelAdapter;
  /** Folder under test/fixtures, and the expectation of every file in it. */
  fixtures: { dir: string; expect: Record<string, Expectation> };
  /** Run one recorded payload through the adapter's parsing / ingress code into `sink`. */
  parse(file: string, raw: Buffer, sink: MemorySink): Promise<Parsed>;
  /**
   * Make the fake platform refuse the next send into a fresh conversation the given way; returns that conversation.
   * `retryAfterSeconds` is what a 429 carries. Omit when the channel has no platform that refuses (local).
   */
  refuseNextSend?(how: SendRefusal, retryAfterSeconds: number): Promise<ConversationRef>;
  close?(): Promise<void>;
}

/** An IngressSink that keeps what it gets, deduplicating like the real one (by event id, claims once). */
export class MemorySink implements IngressSink {
  readonly events: InboundEvent[] = [];
  readonly commands: CommandInvocation[] = [];
  private readonly claims = new Set<string>();
  readonly log = pino({ level: 'silent' });

  async submit(event: InboundEvent): Promise<'accepted' | 'duplicate'> {
    if (this.events.some((e) => e.id === event.id)) return 'duplicate';
    this.events.push(event);
    return 'accepted';
  }

  async command(invocation: CommandInvocation): Promise<CommandResult> {
    this.commands.push(invocation);
    return { text: 'ok', ephemeral: true };
  }

  async claim(id: string): Promise<boolean> {
    if (this.claims.has(id)) return false;
    this.claims.add(id);
    return true;
  }

  /** The one thing this sink received since `from` (events, then commands), or none. */
  outcome(from: { events: number; commands: number }): Parsed {
    const events = this.events.slice(from.events);
    const commands = this.commands.slice(from.commands);
    expect(events.length + commands.length).toBeLessThanOrEqual(1);
    if (events[0]) return { kind: 'event', event: events[0] };
    if (commands[0]) return { kind: 'command', invocation: commands[0] };
    return { kind: 'none' };
  }

  mark(): { events: number; commands: number } {
    return { events: this.events.length, commands: this.commands.length };
  }
}

/** Threads the bot takes part in, in memory (the Redis one is tested with the adapters). */
export function memoryThreads(): ThreadMemory {
  const keys = new Set<string>();
  return { add: async (k) => void keys.add(k), has: async (k) => keys.has(k) };
}

const FIXTURES = new URL('../fixtures/', import.meta.url);

const fences = (p: string) => (p.match(/```/g) ?? []).length;

export function fastContract(name: string, make: () => Promise<FastHarness>): void {
  describe(`adapter contract (fast): ${name}`, () => {
    let h: FastHarness;
    beforeAll(async () => {
      h = await make();
    });
    afterAll(async () => h?.close?.());

    const dir = () => new URL(`${h.fixtures.dir}/`, FIXTURES);
    const read = (file: string) => readFileSync(new URL(file, dir()));

    it('has an expectation for every recorded payload of its platform', () => {
      const files = readdirSync(dir()).sort();
      expect(files.length).toBeGreaterThan(0);
      expect(Object.keys(h.fixtures.expect).sort()).toEqual(files);
    });

    it('parses every recorded payload into what the pipeline should get', async () => {
      for (const [file, want] of Object.entries(h.fixtures.expect)) {
        const got = await h.parse(file, read(file), new MemorySink());
        expect({ file, kind: got.kind }).toEqual({ file, kind: want.kind });
        if (got.kind === 'event' && want.kind === 'event') {
          // The pipeline refuses what does not match its schema, so every event must.
          expect(inboundEventSchema.safeParse(got.event).error, file).toBeUndefined();
          expect(got.event.platform, file).toBe(h.adapter.platform);
          expect(got.event.conversation.kind, file).toBe(want.conversation);
          expect(got.event.text, file).toContain(want.text);
          if (want.mentionsBot !== undefined) expect(got.event.mentionsBot, file).toBe(want.mentionsBot);
          if (want.thread !== undefined) expect(Boolean(got.event.conversation.thread), file).toBe(want.thread);
        }
        if (got.kind === 'command' && want.kind === 'command') {
          expect(got.invocation.name, file).toBe(want.name);
          expect(got.invocation.platform, file).toBe(h.adapter.platform);
          expect(conversationRefSchema.safeParse(got.invocation.conversation).error, file).toBeUndefined();
        }
      }
    });

    it('gives a redelivered payload the same id, so the pipeline answers it once', async () => {
      for (const file of Object.keys(h.fixtures.expect)) {
        const first = await h.parse(file, read(file), new MemorySink());
        const again = await h.parse(file, read(file), new MemorySink());
        const id = (p: Parsed) => (p.kind === 'event' ? p.event.id : p.kind === 'command' ? p.invocation.id : 'none');
        expect(id(again), file).toBe(id(first));
      }
    });

    it('renders long, wide and fenced markdown into parts within its limit, fences balanced, nothing lost', () => {
      const limit = h.adapter.limits.maxMessageChars;
      const word = 'x'.repeat(Math.min(limit * 3, 30_000));
      const lines = Array.from({ length: Math.ceil((limit * 2) / 20) }, (_, i) => `const v${i} = ${i};`);
      const code = '```ts\n' + lines.join('\n') + '\n```';
      for (const md of [longReply(10_000), `${word} end`, `before\n\n${code}\n\nafter`]) {
        const parts = h.adapter.render(md);
        expect(parts.length).toBeGreaterThan(1);
        for (const p of parts) {
          expect(p.length).toBeLessThanOrEqual(limit);
          expect(p.trim().length).toBeGreaterThan(0);
          expect(fences(p) % 2).toBe(0);
        }
        const joined = parts.join('\n');
        for (const marker of ['Paragraph 0', 'value39', 'end', 'before', 'after', 'const v0 ', 'v1 = 1']) {
          if (md.includes(marker)) expect(joined).toContain(marker);
        }
      }
      expect(h.adapter.render('hello')).toHaveLength(1);
    });

    const part = (text: string) => ({ text, index: 0, total: 1, idempotencyKey: `fast-${randomUUID()}` });

    it('maps a 429 to RateLimitedError carrying the platform’s retry-after', async (ctx) => {
      if (!h.refuseNextSend) return ctx.skip();
      const ref = await h.refuseNextSend('rate_limited', 7);
      const err = await h.adapter.send(ref, part('hello')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RateLimitedError);
      // Slack and Telegram send whole seconds; Discord's client reports the bucket's reset, a few ms either side.
      expect((err as RateLimitedError).retryAfterMs).toBeGreaterThan(6_000);
      expect((err as RateLimitedError).retryAfterMs).toBeLessThanOrEqual(7_100);
    });

    it('maps a blocked bot and a gone chat to PermanentSendError', async (ctx) => {
      if (!h.refuseNextSend) return ctx.skip();
      for (const [how, reason] of [
        ['blocked', 'blocked'],
        ['gone', 'not_found'],
      ] as const) {
        const ref = await h.refuseNextSend(how, 1);
        const err = await h.adapter.send(ref, part('hello')).catch((e: unknown) => e);
        expect(err, how).toBeInstanceOf(PermanentSendError);
        expect((err as PermanentSendError).reason, how).toBe(reason);
      }
    });
  });
}
