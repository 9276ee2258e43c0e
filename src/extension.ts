// Activation wires the VS Code layer together and returns at once: the engine (onnxruntime-node, sharp) is
// imported on the first run, never here.
import * as vscode from 'vscode';
import { registerCommands } from './vscode/commands';
import { OodDecorations } from './vscode/decorations';
import { ReportPanel, VIEW_TYPE } from './vscode/panel';
import { Pickers } from './vscode/pickers';
import { Runner } from './vscode/runner';
import { HeadlineStatus } from './vscode/statusBar';
import { ReportStore } from './vscode/store';
import { ModelWatcher } from './vscode/watch';
import { CONFIG_NAME, ConfigCodeLens, ConfigDiagnostics } from './vscode/workspaceConfig';

let runnerOfSession: Runner | undefined;

export function activate(ctx: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('OOD Lens', { log: true });
  const store = new ReportStore(ctx.workspaceState);
  const runner = new Runner(store, log);
  runnerOfSession = runner;
  const status = new HeadlineStatus(store);
  const diagnostics = new ConfigDiagnostics(store);
  const codeLens = new ConfigCodeLens(store);
  const decorations = new OodDecorations(store);
  runner.listen(status);
  runner.listen({
    started: (label) => ReportPanel.current?.runStatus(label),
    progress: (label, p) => ReportPanel.current?.runStatus(label, p),
    finished: () => ReportPanel.current?.runStatus(undefined),
  });
  ctx.subscriptions.push(
    log, store, status, diagnostics, codeLens, decorations,
    new ModelWatcher(runner, store, log),
    vscode.window.registerWebviewPanelSerializer(VIEW_TYPE, ReportPanel.serializer(ctx, store)),
    vscode.window.registerFileDecorationProvider(decorations),
    vscode.languages.registerCodeLensProvider({ scheme: 'file', pattern: `**/${CONFIG_NAME}` }, codeLens),
    ...registerCommands({ ctx, store, runner, pickers: new Pickers(ctx.workspaceState), diagnostics }),
  );
  // The status bar and CodeLens show the last report of this workspace; reading it must not delay activation.
  setTimeout(() => void store.restore(), 0);
}

/** The host exits after this resolves: a run is cancelled and its inference threads are let end first. */
export function deactivate(): Promise<void> | undefined {
  return runnerOfSession?.stop();
}
