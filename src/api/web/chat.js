// The web chat. Plain JS modules, no build step; it uses only the public agent API (the same endpoints and wire
// format the LangGraph SDK uses), authenticated with a key kept in localStorage. The agent's answers are markdown,
// rendered (and sanitised) as they stream in: markdown.js. A tool waiting for approval shows Approve / Reject:
// approval.js.
import { renderMarkdown } from './markdown.js';
import { pendingInterrupt, showApproval } from './approval.js';

const API = document.querySelector('meta[name="api-prefix"]').content;
const KEY = 'gw-chat-api-key';
const LAST = 'gw-chat-thread';
const $ = (sel) => document.querySelector(sel);

// In development the gateway hands the page its development key (empty otherwise): the chat works at once.
const DEV_KEY = document.querySelector('meta[name="dev-api-key"]')?.content || '';
let apiKey = localStorage.getItem(KEY) || DEV_KEY;
let current = location.hash.slice(1) || localStorage.getItem(LAST) || null;
let busy = false;
/** The streaming run, while there is one: what the Stop button cancels. */
let running = null;
let stopped = false;

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function check(res) {
  if (res.ok) return res;
  let detail = res.statusText;
  try {
    detail = (await res.json()).detail || detail;
  } catch {
    /* not JSON */
  }
  if (res.status === 401) askKey('That API key was refused.');
  if (res.status === 429) detail = `Too many requests; try again in ${res.headers.get('retry-after') || 'a few'} s.`;
  throw new HttpError(res.status, detail);
}

async function request(path, method = 'GET', body) {
  const headers = { 'x-api-key': apiKey };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(API + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  // A saved key the gateway no longer knows (e.g. a reset development database): fall back to the dev key.
  if (res.status === 401 && DEV_KEY && apiKey !== DEV_KEY) {
    localStorage.removeItem(KEY);
    apiKey = DEV_KEY;
    return request(path, method, body);
  }
  return check(res);
}

async function api(path, method, body) {
  const res = await request(path, method, body);
  return res.status === 204 ? null : res.json();
}

// Server-sent events from a fetch body (EventSource cannot send the key header or a POST body).
async function* sseEvents(body) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, '\n');
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let event = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue; // heartbeat comment
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length) yield { event, data: JSON.parse(data.join('\n')) };
    }
  }
}

function setStatus(text) {
  $('#status').textContent = text || '';
}

function bubble(kind, text) {
  const el = document.createElement('div');
  el.className = `msg msg-${kind}`;
  // The agent writes markdown; everything else (what the user typed, tool output, errors) is shown as typed.
  if (kind === 'ai') {
    el.classList.add('md');
    renderMarkdown(el, text);
  } else el.textContent = text;
  $('#messages').append(el);
  el.scrollIntoView({ block: 'end' });
  return el;
}

function renderMessages(messages) {
  $('#messages').replaceChildren();
  for (const m of messages) {
    if (m.type === 'human') bubble('human', m.content);
    else if (m.type === 'ai') bubble('ai', m.content || (m.tool_calls || []).map((c) => `(using ${c.name})`).join(' '));
    else if (m.type === 'tool') bubble('tool', `${m.name}: ${m.content}`);
  }
}

async function loadThreads() {
  const threads = await api('/threads/search', 'POST', { limit: 50, sort_by: 'updated_at', sort_order: 'desc' });
  const list = $('#threads');
  list.replaceChildren();
  for (const t of threads) {
    const li = document.createElement('li');
    const b = document.createElement('button');
    b.type = 'button';
    b.dataset.thread = t.thread_id;
    b.textContent = t.metadata?.title || `Thread ${t.thread_id.slice(0, 8)}`;
    b.title = new Date(t.updated_at).toLocaleString();
    b.classList.toggle('active', t.thread_id === current);
    b.addEventListener('click', () => openThread(t.thread_id).catch(showError));
    li.append(b);
    list.append(li);
  }
}

function remember(id) {
  current = id;
  history.replaceState(null, '', id ? `#${id}` : location.pathname);
  if (id) localStorage.setItem(LAST, id);
  else localStorage.removeItem(LAST);
  for (const b of document.querySelectorAll('#threads button')) b.classList.toggle('active', b.dataset.thread === id);
}

async function openThread(id) {
  remember(id);
  try {
    const state = await api(`/threads/${id}/state`);
    renderMessages(state.values.messages || []);
    offerApproval(state);
  } catch (err) {
    if (err.status === 404) return newChat(); // deleted meanwhile
    throw err;
  }
}

function newChat() {
  remember(null);
  $('#messages').replaceChildren();
  $('#input').focus();
}

/** Attached files as content parts: images as image_url data URLs, the rest as base64 file blocks. */
async function fileParts(files) {
  const read = (f) =>
    new Promise((resolve, reject) => {
      const r = new FileReader();
      r.onload = () => resolve(String(r.result));
      r.onerror = () => reject(r.error);
      r.readAsDataURL(f);
    });
  const parts = [];
  for (const f of files) {
    const url = await read(f);
    if (f.type.startsWith('image/')) parts.push({ type: 'image_url', image_url: { url } });
    else {
      const data = url.slice(url.indexOf(',') + 1);
      parts.push({
        type: 'file',
        source_type: 'base64',
        mime_type: f.type || 'application/octet-stream',
        data,
        filename: f.name,
      });
    }
  }
  return parts;
}

/** Runs `work` with the composer disabled; one run at a time. */
async function exclusive(work) {
  busy = true;
  $('#send').disabled = true;
  setStatus('');
  try {
    await work();
  } finally {
    hideStop();
    busy = false;
    $('#send').disabled = false;
  }
}

function send(text, files = []) {
  return exclusive(async () => {
    if (!current) {
      const t = await api('/threads', 'POST', {
        metadata: { title: (text || files[0]?.name || 'files').slice(0, 60) },
      });
      remember(t.thread_id);
    }
    bubble('human', [text, ...files.map((f) => `[${f.name}]`)].filter(Boolean).join(' '));
    const content = files.length ? [...(text ? [{ type: 'text', text }] : []), ...(await fileParts(files))] : text;
    await streamRun({ input: { messages: [{ role: 'user', content }] }, multitask_strategy: 'enqueue' });
  });
}

/** A pending approval in these values (or state) gets its prompt, whose click resumes the run. */
function offerApproval(values) {
  const interrupt = pendingInterrupt(values);
  if (!interrupt) return;
  const threadId = current;
  showApproval($('#messages'), interrupt, (approved) =>
    exclusive(() => streamRun({ command: { resume: { approved } } })).catch(async (err) => {
      // Decided elsewhere or expired meanwhile: the thread as it is now, and why.
      if (err.status === 409 && current === threadId) await openThread(threadId);
      showError(err);
    }),
  );
}

/** Streams one run on the current thread into a new answer bubble; the final state then replaces the view. */
async function streamRun(body) {
  const answer = bubble('ai', '');
  answer.classList.add('streaming');
  let res;
  try {
    res = await request(`/threads/${current}/runs/stream`, 'POST', {
      assistant_id: 'agent',
      stream_mode: ['messages-tuple', 'values'],
      ...body,
    });
  } catch (err) {
    answer.remove();
    throw err;
  }
  let chunks = 0;
  let finalValues = null;
  stopped = false;
  let failure = null;
  const live = liveAnswer(answer);
  for await (const { event, data } of sseEvents(res.body)) {
    if (event === 'metadata' && data.run_id) showStop({ threadId: current, runId: data.run_id });
    else if (event === 'messages' && data[0].type === 'AIMessageChunk' && data[0].content) {
      live.add(data[0].id, data[0].content);
      answer.dataset.chunks = String(++chunks);
    } else if (event === 'values') finalValues = data;
    else if (event === 'error') failure = data.message;
  }
  live.flush();
  hideStop();
  answer.classList.remove('streaming');
  // The final state is the source of truth (it also shows tool calls); keep how many deltas streamed in.
  const messages = finalValues?.messages || [];
  if (messages.at(-1)?.type === 'ai') renderMessages(messages);
  // Stopped: the run ended before its turn committed the partial answer; what streamed stays, marked so
  // (the thread shows the committed text when opened again).
  else if (stopped) live.stopped();
  $('#messages').dataset.lastChunks = String(chunks);
  if (failure) bubble('error', failure);
  offerApproval(finalValues);
  await loadThreads();
}

// Re-rendering the whole answer on every token would be wasted work on a long answer: at most every 50 ms.
const RENDER_EVERY_MS = 50;

/** The answer being streamed into `el`: the text so far, rendered as markdown a few times a second. */
function liveAnswer(el) {
  let id = null;
  let text = '';
  let timer = null;
  const render = () => {
    timer = null;
    renderMarkdown(el, text);
    el.dataset.renders = String(Number(el.dataset.renders || 0) + 1);
    el.scrollIntoView({ block: 'end' });
  };
  return {
    add(chunkId, content) {
      // A new message id mid-run: the turn started over (a retried turn after its worker died), so what was
      // shown is not part of the answer.
      if (id !== null && chunkId !== id) text = '';
      id = chunkId;
      text += content;
      timer ??= setTimeout(render, RENDER_EVERY_MS);
    },
    flush() {
      if (timer === null) return;
      clearTimeout(timer);
      render();
    },
    stopped() {
      text = `${text.trimEnd()}\n\n_(stopped)_`;
      render();
    },
  };
}

function showStop(run) {
  running = run;
  $('#stop').hidden = false;
  $('#stop').disabled = false;
}

function hideStop() {
  running = null;
  $('#stop').hidden = true;
}

/** Cancels the streaming run (the API's runs/cancel): the model stops, what it wrote so far is kept. */
async function stopRun() {
  if (!running) return;
  $('#stop').disabled = true;
  const { threadId, runId } = running;
  stopped = true;
  await request(`/threads/${threadId}/runs/${runId}/cancel?action=interrupt`, 'POST');
}

function showError(err) {
  setStatus(err.message || String(err));
}

function askKey(message = '') {
  $('#key-error').textContent = message;
  $('#key-input').value = '';
  $('#key-overlay').hidden = false;
  $('#key-input').focus();
}

async function start() {
  if (!apiKey) return askKey();
  await loadThreads();
  if (current) await openThread(current);
}

$('#key-form').addEventListener('submit', (e) => {
  e.preventDefault();
  apiKey = $('#key-input').value.trim();
  if (!apiKey) return;
  localStorage.setItem(KEY, apiKey);
  $('#key-overlay').hidden = true;
  start().catch(showError);
});
$('#change-key').addEventListener('click', () => askKey());
$('#new-chat').addEventListener('click', newChat);
$('#stop').addEventListener('click', () => stopRun().catch(showError));
$('#composer').addEventListener('submit', (e) => {
  e.preventDefault();
  const text = $('#input').value.trim();
  const files = [...$('#attach').files];
  if ((!text && !files.length) || busy) return;
  $('#input').value = '';
  $('#attach').value = '';
  $('#attach-label').dataset.count = '';
  send(text, files).catch(showError);
});
$('#attach').addEventListener('change', () => {
  const n = $('#attach').files.length;
  $('#attach-label').dataset.count = n ? String(n) : '';
  $('#attach-label').firstChild.textContent = n ? `Attach (${n})` : 'Attach';
});
$('#input').addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey) {
    e.preventDefault();
    $('#composer').requestSubmit();
  }
});

start().catch(showError);
