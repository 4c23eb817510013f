/**
 * `POST /discord/interactions`: verify (401), parse (400), then PING -> PONG and APPLICATION_COMMAND -> an
 * immediate deferred answer (Discord allows 3 s) while the command runs; its result then replaces the "thinking"
 * placeholder by editing `@original` through the webhook API. Redeliveries are claimed once (`discord-int:{id}`)
 * so a command never runs twice. The interaction token is a credential for 15 minutes: it is never logged.
 */
import type { REST } from '@discordjs/rest';
import { Routes } from 'discord-api-types/v10';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { CommandInvocation, CommandResult, IngressSink } from '../../src/core/adapter.js';
import { parseJson } from '../../src/ingress/json.js';
import { componentInvocation, toInvocation } from './parse.js';
import { interactionSchema, InteractionType, type Interaction } from './schema.js';
import { InteractionResponse, MessageFlagEphemeral } from './limits.js';
import { describeRestError } from './client.js';
import { createInteractionVerifier } from './verify.js';
import { safeErr } from '../../src/observability/logger.js';

export interface InteractionRouteOptions {
  publicKey: string;
  applicationId: string;
  rest: REST;
  render(markdown: string): string[];
  /** Commands whose answers are public: deferred without the ephemeral flag. Everything else defers ephemeral. */
  publicCommands?: ReadonlySet<string>;
  log?: Logger;
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** Resolves once the HTTP answer has left, so the follow-up edit never races ahead of the deferral. */
function responseSent(reply: FastifyReply, maxWaitMs = 3000): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, maxWaitMs);
    const done = () => {
      clearTimeout(t);
      resolve();
    };
    reply.raw.once('finish', done);
    reply.raw.once('close', done);
  });
}

/** The route's handler, for a path of the caller's choosing (an added bot's, under `/discord/bots/<name>/`). */
export function interactionHandler(
  sink: IngressSink,
  opts: InteractionRouteOptions,
): (req: FastifyRequest, reply: FastifyReply) => Promise<unknown> {
  const verify = createInteractionVerifier(opts.publicKey);
  const log = (opts.log ?? sink.log).child({ route: 'discord-interactions' });

  return async (req, reply) => {
    const body = Buffer.isBuffer(req.body)
      ? req.body
      : typeof req.body === 'string'
        ? Buffer.from(req.body)
        : undefined;
    if (
      !body ||
      !verify(header(req.headers['x-signature-ed25519']), header(req.headers['x-signature-timestamp']), body)
    ) {
      return reply.code(401).send({ error: 'invalid request signature' });
    }
    let json: unknown;
    try {
      json = parseJson(body);
    } catch {
      return reply.code(400).send({ error: 'body is not JSON' });
    }
    const parsed = interactionSchema.safeParse(json);
    if (!parsed.success) return reply.code(400).send({ error: 'malformed interaction' });
    const i = parsed.data;

    switch (i.type) {
      case InteractionType.Ping:
        return reply.send({ type: InteractionResponse.Pong });
      case InteractionType.ApplicationCommand:
        return handleCommand(i, reply, toInvocation(i));
      case InteractionType.MessageComponent: {
        // The approval buttons: answered like a command (deferred, ephemeral), only the clicker sees the answer.
        const inv = componentInvocation(i);
        if (inv) return handleCommand(i, reply, inv);
        return reply.send({
          type: InteractionResponse.ChannelMessage,
          data: { content: 'This interaction is not supported.', flags: MessageFlagEphemeral },
        });
      }
      case InteractionType.Autocomplete:
        return reply.send({ type: InteractionResponse.AutocompleteResult, data: { choices: [] } });
      default:
        return reply.send({
          type: InteractionResponse.ChannelMessage,
          data: { content: 'This interaction is not supported.', flags: MessageFlagEphemeral },
        });
    }
  };

  async function handleCommand(i: Interaction, reply: FastifyReply, invocation: CommandInvocation | undefined) {
    if (!invocation) return reply.code(400).send({ error: 'command interaction without data, channel or user' });
    let first: boolean;
    try {
      first = await sink.claim(`discord-int:${i.id}`);
    } catch (err) {
      log.error({ interaction: i.id, err: safeErr(err) }, 'could not claim discord interaction');
      return reply.code(503).send({ error: 'temporarily unavailable' });
    }
    const ephemeral = !opts.publicCommands?.has(invocation.name);
    const deferred = {
      type: InteractionResponse.DeferredChannelMessage,
      ...(ephemeral ? { data: { flags: MessageFlagEphemeral } } : {}),
    };
    if (!first) {
      // Already being answered by whoever claimed it first; acknowledge so Discord stops waiting, run nothing.
      log.info({ interaction: i.id, command: invocation.name }, 'duplicate discord interaction, not run again');
      return reply.send(deferred);
    }
    log.info({ interaction: i.id, command: invocation.name }, 'discord command');
    const sent = responseSent(reply);
    // Start the command now (it may take seconds) but post its answer only after the deferral went out.
    const result = Promise.resolve().then(() => sink.command(invocation));
    result.catch(() => undefined); // observed in complete(); never an unhandled rejection meanwhile
    void complete(i, invocation, result, sent, ephemeral);
    return reply.send(deferred);
  }

  async function complete(
    i: Interaction,
    inv: CommandInvocation,
    pending: Promise<CommandResult>,
    sent: Promise<void>,
    deferredEphemeral: boolean,
  ) {
    let result: CommandResult;
    try {
      result = await pending;
    } catch (err) {
      log.error({ interaction: i.id, command: inv.name, err: safeErr(err) }, 'discord command failed');
      result = { text: 'Sorry, that command failed. Please try again.', ephemeral: true };
    }
    await sent;
    const appId = opts.applicationId || i.application_id;
    const original = Routes.webhookMessage(appId, i.token, '@original');
    const followUp = (content: string, eph: boolean) =>
      opts.rest.post(Routes.webhook(appId, i.token), {
        body: { content, allowed_mentions: { parse: [] }, ...(eph ? { flags: MessageFlagEphemeral } : {}) },
        auth: false,
      });
    try {
      const parts = opts.render(result.text);
      if (!parts.length) parts.push('Done.');
      if (result.ephemeral === deferredEphemeral) {
        await opts.rest.patch(original, { body: { content: parts[0], allowed_mentions: { parse: [] } }, auth: false });
        for (const p of parts.slice(1)) await followUp(p, result.ephemeral);
      } else {
        // Visibility is fixed by the deferral; post the answer as follow-ups of the right kind, then drop the placeholder.
        for (const p of parts) await followUp(p, result.ephemeral);
        await opts.rest.delete(original, { auth: false });
      }
    } catch (err) {
      log.error(
        { interaction: i.id, command: inv.name, err: describeRestError(err, i.token) },
        'discord interaction reply failed',
      );
    }
  }
}
