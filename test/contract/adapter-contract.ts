/**
 * The contract every channel adapter must pass, run against the REAL pipeline (ingress, inbox, queue, worker,
 * outbox, delivery) with the adapter talking to its loopback fake platform. Each adapter provides a harness that
 * knows how to deliver a message through its real ingress path and read what the fake platform received.
 * This is the end-to-end tier; fast-contract.ts is the tier without Redis (fixtures, render limits, error mapping).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { longReply } from '../../src/agent/offline-model.js';
import type { ChannelAdapter } from '../../src/core/adapter.js';
import type { Platform } from '../../src/core/types.js';
import { settleForDuplicates } from '../helpers/settle.js';
import { until } from '../helpers/wait.js';

export interface ContractMessage {
  /** Harness-specific conversation name (a channel / chat id on the fake platform). */
  conversation: string;
  user: string;
  text: string;
  /** Unique per platform delivery; the same id twice is a redelivery. */
  id: string;
}

export interface ContractHarness {
  adapter: ChannelAdapter;
  /** Deliver through the adapter's real ingress; returns the HTTP status (200 for socket / polling paths). */
  deliver(m: ContractMessage): Promise<number>;
  /** Deliver with a bad signature / secret / key. Omit when the ingress path has no signature. */
  deliverForged?(m: ContractMessage): Promise<number>;
  deliverMalformed?(): Promise<number>;
  /** Texts the platform received in this conversation, in order (one entry per message part). */
  sent(conversation: string): Promise<string[]>;
  close(): Promise<void>;
  /** Which pacer interval applies: the contract waits past it before counting replies (test/helpers/settle.ts). */
  platform: Platform;
  kind: 'dm' | 'group';
}

let seq = 0;
const uid = (p: string) => `${p}${Date.now().toString(36)}${(seq++).toString(36)}`;

export function adapterContract(name: string, make: () => Promise<ContractHarness>): void {
  describe(`adapter contract: ${name}`, () => {
    let h: ContractHarness;
    beforeAll(async () => {
      h = await make();
    });
    afterAll(async () => h?.close());

    it('answers a message exactly once', async () => {
      const m = { conversation: uid('c'), user: 'U1', text: `hello ${uid('t')}`, id: uid('e') };
      expect(await h.deliver(m)).toBe(200);
      const got = await until(
        () => h.sent(m.conversation),
        (s) => s.length > 0,
      );
      await settleForDuplicates(h.platform, h.kind);
      expect(await h.sent(m.conversation)).toHaveLength(1);
      expect(got[0]).toContain(m.text);
    });

    it('answers a redelivered event once', async () => {
      const m = { conversation: uid('c'), user: 'U1', text: `again ${uid('t')}`, id: uid('e') };
      expect(await h.deliver(m)).toBe(200);
      expect(await h.deliver(m)).toBe(200);
      await until(
        () => h.sent(m.conversation),
        (s) => s.length > 0,
      );
      await settleForDuplicates(h.platform, h.kind);
      expect(await h.sent(m.conversation)).toHaveLength(1);
    });

    it('refuses forged requests and answers nothing', async (ctx) => {
      if (!h.deliverForged) return ctx.skip();
      const m = { conversation: uid('c'), user: 'U1', text: 'forged', id: uid('e') };
      expect(await h.deliverForged(m)).toBe(401);
      await settleForDuplicates(h.platform, h.kind);
      expect(await h.sent(m.conversation)).toEqual([]);
    });

    it('answers malformed payloads with 400', async (ctx) => {
      if (!h.deliverMalformed) return ctx.skip();
      expect(await h.deliverMalformed()).toBe(400);
    });

    it('keeps arrival order within a conversation and answers each message once', async () => {
      const conversation = uid('c');
      const texts = Array.from({ length: 5 }, (_, i) => `order${i}x${uid('')}`);
      for (const text of texts) expect(await h.deliver({ conversation, user: 'U1', text, id: uid('e') })).toBe(200);
      const all = await until(
        () => h.sent(conversation),
        (s) => texts.every((t) => s.join('\n').includes(t)),
      );
      await settleForDuplicates(h.platform, h.kind);
      const joined = (await h.sent(conversation)).join('\n');
      const positions = texts.map((t) => joined.indexOf(t));
      expect(positions.every((p) => p >= 0)).toBe(true);
      expect([...positions].sort((a, b) => a - b)).toEqual(positions);
      for (const t of texts) expect(joined.split(t).length - 1).toBe(1);
      expect(all.length).toBeGreaterThan(0);
    });

    it('delivers a long reply as ordered parts through the real outbound stage', async () => {
      const m = { conversation: uid('c'), user: 'U1', text: 'please [[long:9000]]', id: uid('e') };
      expect(await h.deliver(m)).toBe(200);
      const expected = h.adapter.render(longReply(9_000)).length;
      const got = await until(
        () => h.sent(m.conversation),
        (s) => s.length >= expected,
        30_000,
      );
      expect(got).toHaveLength(expected);
      const order = got
        .join('\n')
        .match(/Paragraph (\d+)/g)!
        .map((x) => Number(x.split(' ')[1]));
      expect(order).toEqual([...order].sort((a, b) => a - b));
    });

    it('reports its health', () => {
      expect(['up', 'connecting', 'standby', 'down', 'disabled']).toContain(h.adapter.health().state);
    });
  });
}
