// Downloads a VS Code build (needs internet), then runs suite.vscode-test.ts inside it. See README.md.
import { build } from 'esbuild';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..');
const suite = resolve(root, 'dist', 'vscode-test', 'suite.js');
await build({
  entryPoints: [resolve(root, 'test', 'vscode', 'suite.vscode-test.ts')],
  bundle: true, platform: 'node', format: 'cjs', target: 'node20', external: ['vscode'], outfile: suite, logLevel: 'warning',
});
const { runTests } = await import('@vscode/test-electron');
await runTests({
  version: process.env.VSCODE_VERSION ?? 'stable',
  extensionDevelopmentPath: root,
  extensionTestsPath: suite,
  launchArgs: [resolve(root, 'examples', 'demo'), '--disable-extensions', '--disable-workspace-trust'],
});
