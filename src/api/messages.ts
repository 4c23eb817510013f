/**
 * Translation between the gateway's session items (OpenAI Agents SDK `AgentInputItem` JSON) and LangGraph message
 * objects, plus run input parsing and how a finished answer is cut into stream deltas.
 */
import { z } from 'zod';
import { ApiError } from './http.js';

export interface LgMessage {
  type: 'human' | 'ai' | 'tool';
  id: string;
  content: string;
  name?: string;
  tool_calls?: { id: string; name: string; args: Record<string, unknown>; type: 'tool_call' }[];
  tool_call_id?: string;
  additional_kwargs: Record<string, unknown>;
  response_metadata: Record<string, unknown>;
}

/** A session item as stored: its position, the turn that wrote it, and the SDK item. */
export interface StoredItem {
  position: number;
  turnId: string | null;
  createdAt: Date;
  item: Record<string, unknown>;
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => (typeof p?.text === 'string' ? p.text : '')).join('');
  if (content && typeof content === 'object' && typeof (content as { text?: unknown }).text === 'string')
    return (content as { text: string }).text;
  return '';
}

/**
 * Session items -> LangGraph messages. A run of consecutive function calls becomes one AI message with
 * `tool_calls`; their results become tool messages; reasoning and other internal items are not shown.
 * Ids are stable (`<session>-<position>`), so a streamed message and the same message in the state match.
 */
export function toLgMessages(sessionId: string, items: StoredItem[]): LgMessage[] {
  const out: LgMessage[] = [];
  const base = { additional_kwargs: {}, response_metadata: {} };
  const idOf = (p: number) => `${sessionId.slice(0, 8)}-${p}`;
  for (const { position, item } of items) {
    const role = item.role;
    const type = item.type;
    if (role === 'user') {
      out.push({ ...base, type: 'human', id: idOf(position), content: textOf(item.content) });
    } else if (role === 'assistant' && (type === 'message' || type === undefined)) {
      out.push({ ...base, type: 'ai', id: idOf(position), content: textOf(item.content), tool_calls: [] });
    } else if (type === 'function_call') {
      let args: Record<string, unknown> = {};
      try {
        args = JSON.parse(String(item.arguments ?? '{}')) as Record<string, unknown>;
      } catch {
        args = { raw: item.arguments };
      }
      const call = { id: String(item.callId ?? ''), name: String(item.name ?? ''), args, type: 'tool_call' as const };
      const prev = out.at(-1);
      if (prev?.type === 'ai' && prev.tool_calls?.length && !prev.content) prev.tool_calls.push(call);
      else out.push({ ...base, type: 'ai', id: idOf(position), content: '', tool_calls: [call] });
    } else if (type === 'function_call_result') {
      out.push({
        ...base,
        type: 'tool',
        id: idOf(position),
        content: textOf(item.output),
        tool_call_id: String(item.callId ?? ''),
        name: String(item.name ?? ''),
      });
    }
  }
  return out;
}

/** A message the client sends: LangGraph (`type`) or OpenAI (`role`) style, text or content parts. */
const inputMessage = z.object({
  type: z.string().optional(),
  role: z.string().optional(),
  content: z.union([z.string(), z.array(z.record(z.string(), z.unknown()))]),
});

export const runInputSchema = z.union([z.object({ messages: z.array(inputMessage) }), z.string()]);

export interface ParsedInput {
  text: string;
  attachments: { url: string; mimeType?: string; name?: string }[];
}

const FILE_URL = /^(https?:\/\/|data:)/;

/**
 * A file part: OpenAI's `image_url` (a URL or a data: URL), or a LangChain standard block (`image`, `audio`,
 * `file`) with `source_type` url or base64. Read at turn time like a chat platform's file (src/attachments).
 */
function filePart(part: Record<string, unknown>): ParsedInput['attachments'][number] | undefined {
  if (part.type === 'image_url') {
    const url =
      typeof part.image_url === 'string' ? part.image_url : (part.image_url as { url?: string } | undefined)?.url;
    if (!url || !FILE_URL.test(url)) throw new ApiError(422, 'image parts must be http(s) or data: URLs');
    return { url, mimeType: /^data:([^;,]+)/.exec(url)?.[1] ?? 'image/*' };
  }
  if (part.type !== 'image' && part.type !== 'audio' && part.type !== 'file') return undefined;
  const mime = typeof part.mime_type === 'string' ? part.mime_type : undefined;
  const fallback = part.type === 'image' ? 'image/*' : part.type === 'audio' ? 'audio/*' : undefined;
  const mimeType = mime ?? fallback;
  const name = typeof part.filename === 'string' ? part.filename : undefined;
  const extra = { ...(mimeType ? { mimeType } : {}), ...(name ? { name } : {}) };
  if (part.source_type === 'url' && typeof part.url === 'string' && FILE_URL.test(part.url))
    return { url: part.url, ...extra };
  if (part.source_type === 'base64' && typeof part.data === 'string')
    return { url: `data:${mimeType ?? 'application/octet-stream'};base64,${part.data}`, ...extra };
  throw new ApiError(422, `${part.type} parts need source_type "url" (http(s) or data:) or "base64" with data`);
}

/**
 * A run's input becomes ONE inbound event: the human messages' text joined by blank lines, image parts as
 * attachments. Only human messages are accepted: the assistant side of a thread is the gateway's agent.
 */
export function parseRunInput(input: unknown, messages?: unknown[]): ParsedInput {
  const source = input ?? (messages ? { messages } : undefined);
  const parsed = runInputSchema.safeParse(source);
  if (!parsed.success)
    throw new ApiError(422, 'input must be {"messages": [{"role": "user", "content": "..."}]} or a string');
  if (typeof parsed.data === 'string') {
    if (!parsed.data.trim()) throw new ApiError(422, 'input is empty');
    return { text: parsed.data, attachments: [] };
  }
  const texts: string[] = [];
  const attachments: ParsedInput['attachments'] = [];
  for (const m of parsed.data.messages) {
    const kind = m.type ?? m.role;
    if (kind !== 'human' && kind !== 'user')
      throw new ApiError(422, `only human/user messages are accepted as input, got "${kind ?? 'unknown'}"`);
    if (typeof m.content === 'string') {
      texts.push(m.content);
      continue;
    }
    for (const part of m.content) {
      if (part.type === 'text' && typeof part.text === 'string') texts.push(part.text);
      else {
        const file = filePart(part);
        if (file) attachments.push(file);
        else throw new ApiError(422, `unsupported content part "${String(part.type)}"`);
      }
    }
  }
  const text = texts.join('\n\n');
  if (!text.trim() && !attachments.length) throw new ApiError(422, 'input has no text');
  return { text, attachments };
}

/**
 * Workers run the model without token streaming, so a finished answer is streamed as deltas of about `size`
 * characters, cut after whitespace where possible. Concatenated, the deltas are exactly the message content.
 */
export function splitDeltas(text: string, size: number): string[] {
  if (!text) return [];
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    let end = Math.min(text.length, i + size);
    if (end < text.length) {
      const ws = text.lastIndexOf(' ', end);
      if (ws > i) end = ws + 1;
    }
    out.push(text.slice(i, end));
    i = end;
  }
  return out;
}
