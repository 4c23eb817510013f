/** The local channel passes the shared adapter contract through the real pipeline. */
import { startTestApp } from '../../helpers/app.js';
import { adapterContract } from '../../contract/adapter-contract.js';

const KEY = 'local-contract-key-0123456789';

adapterContract('local', async () => {
  const app = await startTestApp({ env: { LOCAL_API_KEY: KEY } });
  const post = (body: unknown, key = KEY) =>
    fetch(`${app.url}/local/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  return {
    platform: 'local',
    kind: 'dm',
    adapter: app.adapters.get('local')!,
    deliver: async (m) => {
      const res = await post({ conversation: m.conversation, user: m.user, text: m.text, id: m.id });
      return res.status === 202 ? 200 : res.status;
    },
    deliverForged: async (m) =>
      (await post({ conversation: m.conversation, user: m.user, text: m.text, id: m.id }, 'not-the-key')).status,
    deliverMalformed: async () => (await post('{"conversation":')).status,
    sent: async (conversation) => {
      const res = await fetch(`${app.url}/local/conversations/${conversation}/messages`, {
        headers: { 'x-api-key': KEY },
      });
      return ((await res.json()) as { replies: { text: string }[] }).replies.map((r) => r.text);
    },
    close: () => app.close(),
  };
});
