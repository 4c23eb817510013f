/**
 * The Slack install flow, for an app distributed to many workspaces: `GET /slack/install` sends the browser to
 * Slack's authorize page (with a signed `state`, also set as a cookie of this browser), Slack sends it back to
 * `GET /slack/oauth_redirect` with a code, and @slack/oauth's `InstallProvider` (what Bolt uses) checks the state
 * against the cookie and its signature, exchanges the code with `oauth.v2.access`, and hands the installation to
 * the store. The store seals the tokens (src/installs); nothing here logs a token or the code.
 */
import { InstallProvider, type InstallationStore } from '@slack/oauth';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { slackLogger } from './client.js';

export interface SlackOAuthOptions {
  clientId: string;
  clientSecret: string;
  /** Signs the state parameter (ClearStateStore: an HMAC'd, expiring value; nothing kept server-side). */
  stateSecret: string;
  scopes: string[];
  installPath: string;
  redirectPath: string;
  /** The redirect URL sent to Slack; absent, Slack uses the one configured for the app. */
  redirectUri?: string;
  /** Slack's authorize page (tests: the loopback fake). */
  authorizeUrl?: string;
}

const page = (title: string, body: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body><p>${body}</p></body></html>`;

export function registerSlackOAuthRoutes(
  http: FastifyInstance,
  o: SlackOAuthOptions & { store: InstallationStore; apiUrl: string; log: Logger; onInstalled?(team: string): void },
): void {
  const installer = new InstallProvider({
    clientId: o.clientId,
    clientSecret: o.clientSecret,
    stateSecret: o.stateSecret,
    installationStore: o.store,
    directInstall: true, // /slack/install redirects at once instead of rendering an "Add to Slack" page
    ...(o.authorizeUrl ? { authorizationUrl: o.authorizeUrl } : {}),
    logger: slackLogger(o.log),
    clientOptions: { slackApiUrl: o.apiUrl, retryConfig: { retries: 0 }, timeout: 15_000 },
  });
  const installOptions = { scopes: o.scopes, ...(o.redirectUri ? { redirectUri: o.redirectUri } : {}) };

  http.get(o.installPath, async (req, reply) => {
    reply.hijack(); // InstallProvider writes the Node response itself
    await installer.handleInstallPath(req.raw, reply.raw, undefined, installOptions);
  });

  http.get(o.redirectPath, async (req, reply) => {
    reply.hijack();
    await installer.handleCallback(req.raw, reply.raw, {
      success: (installation, _opts, _req, res) => {
        const team = installation.team?.id ?? installation.enterprise?.id ?? '';
        o.log.info({ team, enterprise: installation.isEnterpriseInstall }, 'slack: workspace installed');
        o.onInstalled?.(team);
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(page('Installed', 'The app is installed in your Slack workspace. You can close this page.'));
      },
      failure: (error, _opts, _req, res) => {
        // Error codes only (slack_oauth_invalid_state, …): never the code or a token.
        o.log.warn({ code: error.code }, 'slack: install failed');
        res.writeHead(error.code === 'slack_oauth_unknown_error' ? 500 : 400, {
          'content-type': 'text/html; charset=utf-8',
        });
        res.end(page('Not installed', 'The app was not installed. Please start again from the install link.'));
      },
    });
  });
}
