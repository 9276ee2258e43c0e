import * as fs from 'node:fs';
import * as path from 'node:path';

/** Finds a bundled worker script: next to the calling bundle (dist/) or one or two levels up (dist/test, dist/bench). */
export function bundledScript(name: string): string {
  for (const dir of [__dirname, path.join(__dirname, '..'), path.join(__dirname, '..', '..')]) {
    const p = path.join(dir, name);
    if (fs.existsSync(p)) return p;
  }
  throw new Error(`worker bundle ${name} not found near ${__dirname}; run the build first`);
}
