/** Shared by the Telegram adapter tests: a recording sink, fixture loading, polling for a condition. */
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import type { CommandInvocation, CommandResult, IngressSink } from '../../../src/core/adapter.js';
import type { InboundEvent } from '../../../src/core/types.js';

export const TOKEN = '123456789:TEST-token_fake';
export const BOT = { id: 123456789, username: 'gateway_test_bot' };
export const SECRET = 'webhook_Secret-123';
export const silent = pino({ level: 'silent' });

const FIXTURES = new URL('../../fixtures/telegram/', import.meta.url);

export function fixture(name: string): Record<string, any> {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8'));
}

/**
 * Records what an adapter hands to the pipeline. Dedupes by event id like the real sink, so a redelivery shows
 * up as a second submission with the same id but one event. `submitHook` can fail or delay a submission.
 */
export class RecordingSink implements IngressSink {
  readonly submissions: InboundEvent[] = [];
  readonly events: InboundEvent[] = [];
  readonly commands: CommandInvocation[] = [];
  readonly claimed = new Set<string>();
  submitHook: ((event: InboundEvent, attempt: number) => Promise<void> | void) | undefined;
  commandAnswer: (inv: CommandInvocation) => CommandResult = (inv) => ({
    text: `**${inv.name}**: ${inv.args || 'no args'}`,
    ephemeral: true,
  });
  log = silent;

  async submit(event: InboundEvent): Promise<'accepted' | 'duplicate'> {
    this.submissions.push(event);
    await this.submitHook?.(event, this.submissions.filter((e) => e.id === event.id).length);
    if (this.events.some((e) => e.id === event.id)) return 'duplicate';
    this.events.push(event);
    return 'accepted';
  }

  async command(invocation: CommandInvocation): Promise<CommandResult> {
    this.commands.push(invocation);
    return this.commandAnswer(invocation);
  }

  async claim(id: string): Promise<boolean> {
    if (this.claimed.has(id)) return false;
    this.claimed.add(id);
    return true;
  }
}

export async function waitFor(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
