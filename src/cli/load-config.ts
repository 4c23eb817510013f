/** For every command-line entry point: the validated config, or the message naming what is wrong and exit code 2. */
import { ConfigError, loadConfig, type Config } from '../config/env.js';

export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
}
