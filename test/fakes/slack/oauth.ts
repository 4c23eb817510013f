/**
 * The fake Slack's app installation (OAuth v2): workspaces that can install the app, the authorize page that
 * redirects back to the app with a one-time code and the state, and `oauth.v2.access` trading the code (with the
 * app's client id and secret) for that workspace's bot token, as Slack does.
 */

export interface FakeWorkspace {
  teamId: string;
  teamName?: string;
  botUserId: string;
  botId: string;
  /** The bot token oauth.v2.access hands out for this workspace. */
  token: string;
}

export interface FakeOAuthApp {
  clientId: string;
  clientSecret: string;
  /** The redirect URL configured for the app (used when the authorize request names none). */
  redirectUrl?: string;
}

export class FakeOAuth {
  /** The app the OAuth pages know (client id and secret); unset: authorize answers 400. */
  app: FakeOAuthApp | undefined;
  private readonly workspaces = new Map<string, FakeWorkspace>();
  private readonly codes = new Map<string, FakeWorkspace>();
  private approving: string | undefined;
  private issued = 0;

  addWorkspace(w: FakeWorkspace): void {
    this.workspaces.set(w.teamId, w);
  }

  approveNext(teamId: string): void {
    this.approving = teamId;
  }

  /** The workspace whose bot token is in this Authorization header, if any. */
  workspaceOf(auth: string | undefined): FakeWorkspace | undefined {
    return [...this.workspaces.values()].find((w) => auth === `Bearer ${w.token}`);
  }

  /** The authorize page: where to redirect the user, or undefined for a 400 (unknown app, nobody approving). */
  authorize(url: URL): string | undefined {
    const app = this.app;
    const ws = this.approving ? this.workspaces.get(this.approving) : undefined;
    const redirect = url.searchParams.get('redirect_uri') ?? app?.redirectUrl;
    if (!app || url.searchParams.get('client_id') !== app.clientId || !ws || !redirect) return undefined;
    this.approving = undefined;
    const code = `code-${ws.teamId}-${++this.issued}`;
    this.codes.set(code, ws);
    const back = new URL(redirect);
    back.searchParams.set('code', code);
    const state = url.searchParams.get('state');
    if (state) back.searchParams.set('state', state);
    return back.toString();
  }

  /** oauth.v2.access: the workspace's bot token for a code, once. */
  access(body: Record<string, unknown>): Record<string, unknown> {
    const app = this.app;
    if (!app || body.client_id !== app.clientId || body.client_secret !== app.clientSecret)
      return { ok: false, error: 'invalid_client' };
    const ws = this.codes.get(String(body.code));
    if (!ws) return { ok: false, error: 'invalid_code' };
    this.codes.delete(String(body.code)); // one use, as Slack's
    return {
      ok: true,
      app_id: 'AFAKEAPP01',
      authed_user: { id: 'UINSTALLER1' },
      scope: 'app_mentions:read,chat:write,im:history',
      token_type: 'bot',
      access_token: ws.token,
      bot_user_id: ws.botUserId,
      team: { id: ws.teamId, name: ws.teamName ?? ws.teamId },
      enterprise: null,
      is_enterprise_install: false,
    };
  }
}
