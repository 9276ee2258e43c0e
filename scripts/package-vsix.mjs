// Packages one VSIX per platform: onnxruntime-node ships every platform's binaries (~290 MB), so each VSIX keeps
// only its own. Usage: node scripts/package-vsix.mjs [--target linux-x64|linux-arm64|darwin-arm64|win32-x64] [-o FILE]
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const target = opt('--target') ?? `${process.platform}-${process.arch}`;
const [os, arch] = target.split('-');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const out = opt('-o') ?? join(root, `${pkg.name}-${target}-${pkg.version}.vsix`);

const platforms = { linux: ['x64', 'arm64'], darwin: ['x64', 'arm64'], win32: ['x64', 'arm64'] };
const exclusions = [];
for (const [o, arches] of Object.entries(platforms)) {
  for (const a of arches) if (o !== os || a !== arch) exclusions.push(`node_modules/onnxruntime-node/bin/napi-v*/${o}/${a}/**`);
}
const ignore = join(tmpdir(), `oodlens-vscodeignore-${process.pid}`);
writeFileSync(ignore, `${readFileSync(join(root, '.vscodeignore'), 'utf8')}\n# added by scripts/package-vsix.mjs for ${target}\n${exclusions.join('\n')}\n`);
try {
  execFileSync(process.execPath, [join(root, 'node_modules', '@vscode', 'vsce', 'vsce'), 'package', '--target', target, '--allow-missing-repository', '--skip-license', '--ignoreFile', ignore, '-o', out], { cwd: root, stdio: 'inherit' });
} finally {
  rmSync(ignore, { force: true });
}
