// Packages the built extension as a VSIX (with its runtime dependencies, as users get it) and installs it
// into an extensions folder that every scenario of the run shares; both are redone only when the build
// changes. Installing from a folder does not work in code-server; a VSIX does.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { codeServerBin, e2eDir, repoRoot } from './paths';
import { run } from './proc';

const vsixPath = join(e2eDir, 'ood-lens.vsix');
const extensionId = 'ood-lens.ood-lens';

function mtime(path: string): number {
  return existsSync(path) ? statSync(path).mtimeMs : 0;
}

// OODLENS_E2E_VSCODEIGNORE tries another ignore file without touching the repository's.
const ignoreFile = resolve(repoRoot, process.env.OODLENS_E2E_VSCODEIGNORE ?? '.vscodeignore');

function inputsChangedSince(time: number): boolean {
  const built = readdirSync(join(repoRoot, 'dist')).filter((f) => f.endsWith('.js')).map((f) => join('dist', f));
  return ['package.json', ignoreFile, ...built].some((f) => mtime(resolve(repoRoot, f)) > time);
}

export async function ensureVsix(): Promise<string> {
  if (!existsSync(join(repoRoot, 'dist', 'extension.js'))) throw new Error('dist/extension.js missing: run `node esbuild.mjs --production --e2e` first');
  if (existsSync(vsixPath) && !inputsChangedSince(mtime(vsixPath))) return vsixPath;
  if (!existsSync(ignoreFile)) {
    // Without it the VSIX would take in sources, examples and .e2e/ itself (hundreds of MB).
    throw new Error(`${ignoreFile} missing: the VSIX would include the whole repository`);
  }
  mkdirSync(e2eDir, { recursive: true });
  // Dependencies included (vsce runs `npm list --production`): the extension loads onnxruntime-node and sharp.
  const vsce = join(repoRoot, 'node_modules', '@vscode', 'vsce', 'vsce');
  await run(process.execPath, [vsce, 'package', '--allow-missing-repository', '--skip-license', '--ignoreFile', ignoreFile, '-o', vsixPath], { cwd: repoRoot });
  return vsixPath;
}

/** Returns an extensions folder with the current VSIX installed in it. */
export async function ensureInstalledExtension(): Promise<string> {
  const vsix = await ensureVsix();
  const extRoot = join(e2eDir, 'extensions');
  const dir = join(extRoot, String(Math.round(mtime(vsix))));
  if (existsSync(join(dir, '.installed'))) return dir;
  rmSync(extRoot, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), 'oodlens-e2e-install-'));
  try {
    const config = join(scratch, 'config.yaml');
    writeFileSync(config, 'auth: none\ncert: false\n');
    const args = ['--config', config, '--user-data-dir', join(scratch, 'user'), '--extensions-dir', dir];
    await run(codeServerBin, [...args, '--install-extension', vsix], { env: isolatedEnv(scratch) });
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
