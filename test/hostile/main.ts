// CLI entry: builds every hostile fixture in a folder and prints what it made (see README.md).
import * as path from 'node:path';
import { generateHostile } from './generate';

const USAGE = 'usage: node dist/hostile.js OUT_DIR [--many N] [--huge]';

async function main(argv: string[]): Promise<void> {
  const dir = argv.find((a) => !a.startsWith('--'));
  if (!dir) throw new Error(USAGE);
  const manyAt = argv.indexOf('--many');
  const manyFiles = manyAt >= 0 ? Number(argv[manyAt + 1]) : 0;
  if (!Number.isInteger(manyFiles) || manyFiles < 0) throw new Error(`--many expects a count (${USAGE})`);
  const tree = await generateHostile(path.resolve(dir), { huge: argv.includes('--huge'), manyFiles });
  process.stdout.write(JSON.stringify(tree, (_k, v) => (v instanceof RegExp ? v.source : v), 2) + '\n');
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
