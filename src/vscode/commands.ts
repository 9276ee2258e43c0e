// The OOD Lens commands. Ids and titles are a contract with package.json and the end-to-end tests.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunOptions } from '../engine/run';
import { COMMANDS } from './commandIds';
import { compareReports } from './compare';
import { type ChartExport, exportReport } from './export';
import { ReportPanel } from './panel';
import type { Pickers } from './pickers';
import type { RunRequest, Runner } from './runner';
import { runDefaults, withDefaults, workspaceCache } from './settings';
import { askNormalization } from './normalizationPick';
import { calibratedModelPath, finetunedModelPath } from './splitInference';
import type { ReportStore } from './store';
import { CONFIG_NAME, type ConfigDiagnostics, findWorkspaceConfig } from './workspaceConfig';

interface Deps {
  ctx: vscode.ExtensionContext;
  store: ReportStore;
  runner: Runner;
  pickers: Pickers;
  diagnostics: ConfigDiagnostics;
}

export function registerCommands(deps: Deps): vscode.Disposable[] {
  const c = new Commands(deps);
  return [
    vscode.commands.registerCommand(COMMANDS.scoreDataset, (uri?: vscode.Uri) => c.scoreDataset(uri)),
    vscode.commands.registerCommand(COMMANDS.scoreWithModel, (uri?: vscode.Uri) => c.scoreWithModel(uri)),
    vscode.commands.registerCommand(COMMANDS.compareModels, (uri?: vscode.Uri, uris?: vscode.Uri[]) => c.compareModels(uri, uris)),
    vscode.commands.registerCommand(COMMANDS.calibrate, (uri?: vscode.Uri) => c.calibrate(uri)),
    vscode.commands.registerCommand(COMMANDS.finetune, (uri?: vscode.Uri) => c.finetune(uri)),
    vscode.commands.registerCommand(COMMANDS.runConfig, (uri?: vscode.Uri) => c.runConfig(uri)),
    vscode.commands.registerCommand(COMMANDS.openLastReport, () => c.openLastReport()),
    vscode.commands.registerCommand(COMMANDS.exportReport, (chart?: ChartExport) => exportReport(deps.ctx, deps.store, isChartExport(chart) ? chart : undefined)),
    vscode.commands.registerCommand(COMMANDS.openDemo, () => c.openDemo()),
    vscode.commands.registerCommand(COMMANDS.compareReports, () => compareReports(deps.ctx, deps.store)),
  ];
}

// Explorer menus pass a Uri as the first argument; only the panel passes a chart.
function isChartExport(v: unknown): v is ChartExport {
  return typeof v === 'object' && v !== null && 'chart' in v && 'dataUrl' in v;
}

const isOnnx = (uri: vscode.Uri | undefined): uri is vscode.Uri => uri?.scheme === 'file' && uri.fsPath.toLowerCase().endsWith('.onnx');

class Commands {
  constructor(private readonly d: Deps) {}

  async scoreDataset(folder?: vscode.Uri): Promise<void> {
    if (!(await requireTrust())) return;
    const id = folder?.fsPath ?? (await this.d.pickers.folder('In-distribution dataset folder'));
    if (!id) return;
    const model = await this.d.pickers.model();
    if (!model) return;
    await this.scoreFlow([model], id);
  }

  async scoreWithModel(model?: vscode.Uri): Promise<void> {
    if (!(await requireTrust())) return;
    const m = isOnnx(model) ? model.fsPath : await this.d.pickers.model();
    if (!m) return;
    const id = await this.d.pickers.idFolder();
    if (!id) return;
    await this.scoreFlow([m], id);
  }

  async compareModels(first?: vscode.Uri, all?: vscode.Uri[]): Promise<void> {
    if (!(await requireTrust())) return;
    const selected = (all?.length ? all : first ? [first] : []).filter(isOnnx).map((u) => u.fsPath);
    const models = selected.length >= 2 ? selected : await this.d.pickers.models();
    if (!models) return;
    if (models.length < 2) {
      void vscode.window.showWarningMessage('OOD Lens: select two or more .onnx files to compare.');
      return;
    }
    const id = await this.d.pickers.idFolder();
    if (!id) return;
    await this.scoreFlow(models, id);
  }

  async calibrate(model?: vscode.Uri): Promise<void> {
    if (!(await requireTrust())) return;
    const m = isOnnx(model) ? model.fsPath : await this.d.pickers.model('Model to calibrate');
    if (!m) return;
    const calib = await this.d.pickers.folder('Calibration folder (held-out labelled images)');
    if (!calib) return;
    const { runCalibrate } = await import('../engine/calibrate');
    let temperature: number | undefined;
    const report = await this.d.runner.run({
      ...this.target(calib),
      label: `Calibrating ${path.basename(m)} on ${path.basename(calib)}`,
      origin: `calibration of ${path.basename(m)}`,
      models: [m],
      execute: async (hooks) => {
        const result = await runCalibrate({ model: m, calib }, hooks);
        temperature = result.temperature;
        return result.report;
      },
    });
    if (!report) return;
    this.showPanel();
    if (report.partial || temperature === undefined) return;
    const out = calibratedModelPath(m);
    const write = `Write ${path.basename(out)}`;
    const choice = await vscode.window.showInformationMessage(`OOD Lens: fitted temperature T = ${temperature.toFixed(3)} for ${path.basename(m)}.`, write);
    if (choice !== write) return;
    if (await exists(out)) {
      const overwrite = await vscode.window.showWarningMessage(`${path.basename(out)} exists. Replace it?`, { modal: true }, 'Replace');
      if (overwrite !== 'Replace') return;
    }
    const written = await this.d.runner.run({
      ...this.target(calib),
      label: `Writing ${path.basename(out)}`,
      origin: `calibration of ${path.basename(m)}`,
      models: [m],
      execute: async (hooks) => (await runCalibrate({ model: m, calib, out }, hooks)).report,
    });
    if (written && !written.partial) {
      const reveal = await vscode.window.showInformationMessage(`OOD Lens: wrote ${path.basename(out)} next to the original.`, 'Reveal');
      if (reveal) await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(out));
    }
  }

  /** Energy fine-tuning of the last layer: the same choices as `ood-lens finetune`, written beside the model. */
  async finetune(model?: vscode.Uri): Promise<void> {
    if (!(await requireTrust())) return;
    const m = isOnnx(model) ? model.fsPath : await this.d.pickers.model('Model to fine-tune');
    if (!m) return;
    const fit = await this.d.pickers.folder('Fit folder (labelled in-distribution training images)');
    if (!fit) return;
    const outliers = await this.d.pickers.outliers(fit);
    if (!outliers) return;
    const id = await this.d.pickers.idFolder();
    if (!id) return;
    const ood = await this.d.pickers.oodSets(id, [outliers]);
    if (!ood) return;
    const calib = await this.d.pickers.calibFolder(id, [...ood, outliers]);
    if (calib === undefined) return;
    const out = finetunedModelPath(m);
    if (await exists(out)) {
      const overwrite = await vscode.window.showWarningMessage(`${path.basename(out)} exists. Replace it?`, { modal: true }, 'Replace');
      if (overwrite !== 'Replace') return;
    }
    const { runFinetune } = await import('../engine/finetune/run-finetune');
    const report = await this.d.runner.run({
      ...this.target(id),
      label: `Fine-tuning ${path.basename(m)} on ${path.basename(fit)}`,
      origin: `energy fine-tuning of ${path.basename(m)}`,
      models: [m],
      execute: async (hooks) => (await runFinetune({ model: m, fit, outliers, id, ood, calib: calib ?? undefined, out, run: runDefaults() }, hooks)).report,
    });
    if (!report) return;
    this.showPanel();
    if (report.finetune?.out) {
      const reveal = await vscode.window.showInformationMessage(`OOD Lens: wrote ${path.basename(out)} next to the original.`, 'Reveal');
      if (reveal) await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(out));
    }
  }

  /** Runs exactly what oodlens.json says: no questions. */
  async runConfig(uri?: vscode.Uri): Promise<void> {
    if (!(await requireTrust())) return;
    const config = uri && path.basename(uri.fsPath) === CONFIG_NAME ? uri : await findWorkspaceConfig();
    if (!config) {
      void vscode.window.showWarningMessage(`OOD Lens: no ${CONFIG_NAME} at the root of the workspace.`);
      return;
    }
    await this.runConfigFile(config, CONFIG_NAME, undefined);
  }

  async openDemo(): Promise<void> {
    // The demo's models and images ship inside the extension: safe to run in an untrusted workspace.
    const config = vscode.Uri.joinPath(this.d.ctx.extensionUri, 'examples', 'demo', CONFIG_NAME);
    if (!(await exists(config.fsPath))) {
      void vscode.window.showErrorMessage(`OOD Lens: the demo is missing from this installation (${config.fsPath}).`);
      return;
    }
    await this.runConfigFile(config, 'demo', vscode.Uri.joinPath(this.d.ctx.globalStorageUri, 'demo'));
  }

  async openLastReport(): Promise<void> {
    if (await this.d.store.restore()) {
      this.showPanel();
      return;
    }
    const choice = await vscode.window.showInformationMessage('OOD Lens: no report yet.', 'Score Dataset…', 'Open Demo');
    if (choice === 'Score Dataset…') await vscode.commands.executeCommand(COMMANDS.scoreDataset);
    if (choice === 'Open Demo') await vscode.commands.executeCommand(COMMANDS.openDemo);
  }

  private async runConfigFile(config: vscode.Uri, origin: string, reportDir: vscode.Uri | undefined): Promise<void> {
    const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(config));
    const { parseConfig, pathsOutside } = await import('../engine/config');
    const parsed = parseConfig(text, config.fsPath);
    await this.d.diagnostics.update({ uri: config, getText: () => text });
    if (!parsed.options) {
      const choice = await vscode.window.showErrorMessage(`OOD Lens: ${path.basename(config.fsPath)} has problems: ${parsed.issues.map((i) => i.message).join('; ')}`, 'Open');
      if (choice) await vscode.window.showTextDocument(config);
      return;
    }
    const options = withDefaults(parsed.options);
    // The demo (reportDir given) runs from the extension's storage: no workspace cache for it.
    if (!reportDir) options.cache ??= workspaceCache(this.target(config.fsPath).baseDir);
    const root = reportDir ? path.dirname(config.fsPath) : vscode.workspace.getWorkspaceFolder(config)?.uri.fsPath;
    const outside = root ? pathsOutside(options, root) : [];
    if (outside.length > 0) {
      const go = await vscode.window.showWarningMessage(
        `OOD Lens: ${path.basename(config.fsPath)} reads files outside the workspace: ${outside.join(', ')}. Run anyway?`, { modal: true }, 'Run');
      if (go !== 'Run') return;
    }
    const report = await this.d.runner.run({
      label: `Running ${origin === 'demo' ? 'the demo' : path.basename(config.fsPath)}`,
      origin,
      reportDir: reportDir ?? this.target(config.fsPath).reportDir,
      baseDir: path.dirname(config.fsPath),
      gates: parsed.gates,
      configPath: config.fsPath,
      models: options.models,
      execute: async (hooks) => (await import('../engine/run')).runScore(options, hooks),
    });
    if (report) {
      this.showPanel();
      await this.d.diagnostics.update({ uri: config, getText: () => text });
    }
  }

  private async scoreFlow(models: string[], id: string): Promise<void> {
    const ood = await this.d.pickers.oodSets(id);
    if (!ood) return;
    const calib = await this.d.pickers.calibFolder(id, ood);
    if (calib === undefined) return;
    await this.d.pickers.remember(id, models, { ood, calib });
    for (const m of models) if (!(await askNormalization(m, id))) return;
    const options: RunOptions = { ...runDefaults(), models, id, ood, calib: calib ?? undefined, cache: workspaceCache(this.target(id).baseDir) };
    const names = models.map((m) => path.basename(m)).join(', ');
    const report = await this.d.runner.run({
      ...this.target(id),
      label: `Scoring ${path.basename(id)} with ${names}`,
      origin: path.basename(id),
      models,
      execute: async (hooks) => (await import('../engine/run')).runScore(options, hooks),
    });
    if (report) this.showPanel();
  }

  /** Reports go to .oodlens/reports in the workspace folder holding the data (else the first folder, else global storage). */
  private target(dataPath: string): Pick<RunRequest, 'reportDir' | 'baseDir'> {
    const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(dataPath)) ?? vscode.workspace.workspaceFolders?.[0];
    const base = folder?.uri ?? this.d.ctx.globalStorageUri;
    return { reportDir: vscode.Uri.joinPath(base, '.oodlens', 'reports'), baseDir: folder?.uri.fsPath };
  }

  private showPanel(): void {
    ReportPanel.show(this.d.ctx, this.d.store);
  }
}

/** A model is native code input: runs need a trusted workspace. */
async function requireTrust(): Promise<boolean> {
  if (vscode.workspace.isTrusted) return true;
  const manage = 'Manage Workspace Trust';
  const choice = await vscode.window.showWarningMessage(
    'OOD Lens runs ONNX models, which execute native code: trust this workspace to score, compare or calibrate. Reports can still be opened and the demo run.', manage);
  if (choice === manage) await vscode.commands.executeCommand('workbench.trust.manage');
  return false;
}

async function exists(file: string): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(vscode.Uri.file(file));
    return true;
  } catch {
    return false;
  }
}
