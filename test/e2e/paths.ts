// Where things live. Scenarios are bundled to dist/e2e/*.e2e.js, so the repo root is two levels up.
import { join, resolve } from 'node:path';

export const repoRoot = resolve(__dirname, '..', '..');
export const e2eDir = join(repoRoot, '.e2e');
export const codeServerBin = join(e2eDir, 'code-server', 'node_modules', '.bin', 'code-server');
export const outputDir = join(repoRoot, 'test-output', 'e2e');
export const cliJs = join(repoRoot, 'dist', 'cli.js');
export const demoDir = join(repoRoot, 'examples', 'demo');
export const chromiumPath = process.env.OODLENS_E2E_CHROMIUM ?? '/usr/bin/chromium';
