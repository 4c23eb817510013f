/**
 * The app's own folder (where its package.json is): the repository, or /app in the image. Files the code reads at
 * run time (Redis scripts, migrations, the web chat, the word vectors) are found from here, the same way whether
 * the code runs from src/ (tsx) or bundled into dist/ (`npm run build`), where all modules share one URL.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const NAME = 'chat-gateway';
let root: string | undefined;

export function appRoot(): string {
  if (root) return root;
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === NAME)
      return (root = dir);
    if (path.dirname(dir) === dir) throw new Error(`${NAME}: no package.json of its own above ${import.meta.url}`);
  }
}

/** A path inside the app's folder. */
export const appPath = (...parts: string[]) => path.join(appRoot(), ...parts);

/** package.json's version. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(appPath('package.json'), 'utf8')) as { version: string }).version;
}
