/** Headless Chromium for the web chat tests: Debian's /usr/bin/chromium via playwright-core, offline flags. */
import { toolGate } from '../helpers/tools.js';

/** Debian's package here; CHROMIUM_PATH elsewhere (the GitHub workflow points it at the runner's Chrome). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// Outside CI the browser tests skip when Chromium is missing (README, "Tests"); with CI set they fail.
export const chromiumGate = toolGate(CHROMIUM);

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
