// Runs inside a real VS Code (extension host) via @vscode/test-electron: see README.md in this folder.
// Only what needs VS Code itself: the manifest is wired to the code. Logic is unit-tested outside VS Code.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { COMMANDS } from '../../src/vscode/commandIds';

const checks: [string, () => Promise<void>][] = [
  ['the extension activates', async () => {
    const ext = vscode.extensions.getExtension('ood-lens.ood-lens');
    assert.ok(ext, 'extension ood-lens.ood-lens is installed');
    await ext.activate();
    assert.equal(ext.isActive, true);
  }],
  ['every command is registered', async () => {
    const all = new Set(await vscode.commands.getCommands(true));
    for (const id of Object.values(COMMANDS)) assert.ok(all.has(id), `${id} registered`);
  }],
  ['settings are contributed with their defaults', async () => {
    const c = vscode.workspace.getConfiguration('oodLens');
    assert.deepEqual(c.get('executionProviders'), ['auto']);
    assert.equal(c.get('batchSize'), 64);
    assert.equal(c.get('histogramBins'), 30);
    assert.equal(c.get('eceBins'), 15);
    assert.equal(c.get('keepFraction'), 0.95);
    assert.equal(c.get('decorations.enabled'), true);
    assert.equal(c.get('watch.enabled'), false);
    assert.equal(c.get('history.keep'), 20);
  }],
  ['Open Last Report with no report asks instead of failing', async () => {
    // Resolves once the information message is shown; it must not throw.
    await Promise.race([vscode.commands.executeCommand(COMMANDS.openLastReport), new Promise((r) => setTimeout(r, 1000))]);
  }],
];

/** Entry point called by @vscode/test-electron (extensionTestsPath). */
export async function run(): Promise<void> {
  const failures: string[] = [];
  for (const [name, check] of checks) {
    try {
      await check();
      console.log(`ok - ${name}`);
    } catch (e) {
      failures.push(`${name}: ${(e as Error).message}`);
      console.log(`not ok - ${name}\n  ${(e as Error).stack}`);
    }
  }
  if (failures.length) throw new Error(`${failures.length} VS Code check(s) failed:\n${failures.join('\n')}`);
}
