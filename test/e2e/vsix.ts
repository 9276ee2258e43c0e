// Packages the built extension as users get it (scripts/package-vsix.mjs: this platform's VSIX, runtime
// dependencies included) and installs it into an extensions folder that every scenario shares. Both are
// keyed by a hash of what goes into the package, so a rebuild that changes nothing costs no repackage.
// Installing from a folder does not work in code-server; a VSIX does.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { codeServerBin, e2eDir, repoRoot } from './paths';
import { run } from './proc';

const vsixPath = join(e2eDir, 'ood-lens.vsix');
const extensionId = 'ood-lens.ood-lens';

/** Files under dir, skipping dot-folders (such as the reports a demo run leaves in examples/demo/.oodlens). */
function filesIn(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => !e.name.startsWith('.'))
    .flatMap((e) => (e.isDirectory() ? filesIn(join(dir, e.name)) : [join(dir, e.name)]));
}

/** Hash of the extension's own files (dependencies are pinned by package-lock.json). */
function inputsHash(): string {
  const dist = readdirSync(join(repoRoot, 'dist')).filter((f) => f.endsWith('.js')).map((f) => join('dist', f));
  const files = ['package.json', 'package-lock.json', '.vscodeignore', join('scripts', 'package-vsix.mjs'), ...dist, ...['media', 'schemas', join('examples', 'demo')].flatMap((d) => filesIn(join(repoRoot, d)))]
    .map((f) => resolve(repoRoot, f));
  const hash = createHash('sha256');
  for (const f of files.sort()) hash.update(f).update(readFileSync(f));
  return hash.digest('hex').slice(0, 16);
}

async function ensureVsix(hash: string): Promise<void> {
  const stamp = `${vsixPath}.hash`;
  if (existsSync(vsixPath) && existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) return;
  mkdirSync(e2eDir, { recursive: true });
  await run(process.execPath, [join(repoRoot, 'scripts', 'package-vsix.mjs'), '-o', vsixPath], { cwd: repoRoot });
  writeFileSync(stamp, hash);
}

/** Returns an extensions folder with the current build installed in it. */
export async function ensureInstalledExtension(): Promise<string> {
  if (!existsSync(join(repoRoot, 'dist', 'extension.js'))) throw new Error('dist/extension.js missing: run `node esbuild.mjs --production --e2e` first');
  const hash = inputsHash();
  const extRoot = join(e2eDir, 'extensions');
  const dir = join(extRoot, hash);
  if (existsSync(join(dir, '.installed'))) return dir;
  await ensureVsix(hash);
  rmSync(extRoot, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), 'oodlens-e2e-install-'));
  try {
    const config = join(scratch, 'config.yaml');
    writeFileSync(config, 'auth: none\ncert: false\n');
    const args = ['--config', config, '--user-data-dir', join(scratch, 'user'), '--extensions-dir', dir];
    await run(codeServerBin, [...args, '--install-extension', vsixPath], { env: isolatedEnv(scratch) });
    const listed = await run(codeServerBin, [...args, '--list-extensions'], { env: isolatedEnv(scratch) });
    if (!listed.stdout.split('\n').includes(extensionId)) throw new Error(`${extensionId} not listed after install:\n${listed.stdout}`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  writeFileSync(join(dir, '.installed'), '');
  return dir;
}

/** Environment that keeps code-server's own config and data out of the user's home. */
export function isolatedEnv(scratch: string): NodeJS.ProcessEnv {
  return { ...process.env, XDG_CONFIG_HOME: join(scratch, 'xdg-config'), XDG_DATA_HOME: join(scratch, 'xdg-data') };
}
