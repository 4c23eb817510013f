/** A minimal SSE reader over fetch for tests: events as they arrive, with their arrival time. */
export interface SseEvent {
  event: string;
  data: any;
  at: number;
}

export interface SseClient {
  events: SseEvent[];
  /** Resolves with the first event (from the start) matching `pred`. */
  next(pred: (e: SseEvent) => boolean, ms?: number): Promise<SseEvent>;
  close(): void;
  done: Promise<void>;
}

export async function openSse(url: string, init: RequestInit = {}): Promise<SseClient> {
  const ac = new AbortController();
  const res = await fetch(url, { ...init, signal: ac.signal });
  if (!res.ok || !res.body) throw new Error(`SSE ${url}: ${res.status}`);
  const events: SseEvent[] = [];
  const waiters: (() => void)[] = [];
  const done = (async () => {
    const dec = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += dec.decode(chunk, { stream: true });
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (!ev || data === undefined) continue;
          events.push({ event: ev, data: JSON.parse(data), at: Date.now() });
          for (const w of waiters.splice(0)) w();
        }
      }
    } catch {
      /* closed */
    }
    for (const w of waiters.splice(0)) w();
  })();
  let ended = false;
  void done.then(() => (ended = true));
  return {
    events,
    done,
    close: () => ac.abort(),
    async next(pred, ms = 15_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const hit = events.find(pred);
        if (hit) return hit;
        if (ended || Date.now() > deadline)
          throw new Error(`no matching SSE event (${events.map((e) => e.event).join(',')})`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 100);
        });
      }
    },
  };
}
