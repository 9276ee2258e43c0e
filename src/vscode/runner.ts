// Runs one engine job at a time behind a cancellable progress notification, saves the report and publishes it.
// A second run while one is going is refused (watch mode instead queues one re-run).
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Gates } from '../engine/gates';
import type { Report } from '../engine/report/types';
import type { Progress, RunHooks } from '../engine/run';
import { recordHistory } from './history';
import type { ReportStore } from './store';

export interface RunRequest {
  /** Shown in the notification and the log, e.g. "Scoring val with resnet.onnx". */
  label: string;
  origin: string;
  /** Where latest.json goes. */
  reportDir: vscode.Uri;
  baseDir?: string;
  gates?: Gates;
  configPath?: string;
  /** Model files watch mode re-runs on. */
  models: string[];
  execute(hooks: RunHooks): Promise<Report>;
}

export interface RunListener {
  started(label: string): void;
  progress(label: string, p: Progress): void;
  finished(): void;
}

const PROGRESS_INTERVAL_MS = 250;

export class Runner {
  private active?: { label: string; controller: AbortController; settled: Promise<unknown> };
  private last?: RunRequest;
  private rerunQueued = false;
  private readonly listeners: RunListener[] = [];

  constructor(private readonly store: ReportStore, private readonly log: vscode.LogOutputChannel) {}

  get busy(): boolean {
    return this.active !== undefined;
  }

  get lastRequest(): RunRequest | undefined {
    return this.last;
  }

  listen(l: RunListener): void {
    this.listeners.push(l);
  }

  cancel(): void {
    this.active?.controller.abort();
  }

  /**
   * Extension shutdown: cancels the run and resolves once no inference thread is inside onnxruntime. The extension
   * host exits after deactivate; tearing such a thread down aborts the host, and every extension with it.
   */
  async stop(): Promise<void> {
    const active = this.active;
    active?.controller.abort();
    await active?.settled.catch(() => undefined);
    const { inferenceThreadsStopped } = await import('../engine/inference/live-threads');
    await inferenceThreadsStopped();
  }

  /** Resolves with the report (partial when cancelled), or undefined when refused or failed. */
  async run(req: RunRequest): Promise<Report | undefined> {
    if (this.active) {
      const choice = await vscode.window.showWarningMessage(
        `OOD Lens is already running "${this.active.label}". Runs never overlap: wait for it or cancel it.`, 'Cancel Running Job');
      if (choice === 'Cancel Running Job') this.cancel();
      return undefined;
    }
    const controller = new AbortController();
    let settle!: () => void;
    this.active = { label: req.label, controller, settled: new Promise<void>((r) => (settle = r)) };
    this.last = req;
    this.log.info(`${req.label}: started`);
    this.listeners.forEach((l) => l.started(req.label));
    try {
      const report = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `OOD Lens: ${req.label}`, cancellable: true },
        (progress, token) => {
          token.onCancellationRequested(() => controller.abort());
          let lastReport = 0;
          return req.execute({
            signal: controller.signal,
            log: (level, message) => this.log[level](message),
            onProgress: (p) => {
              const now = Date.now();
              if (now - lastReport < PROGRESS_INTERVAL_MS && p.phase === 'scoring' && p.done < p.total) return;
              lastReport = now;
              progress.report({ message: describeProgress(p) });
              this.listeners.forEach((l) => l.progress(req.label, p));
            },
          });
        });
      await this.publish(req, report);
      return report;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.log.error(`${req.label}: ${e instanceof Error && e.name !== 'UserError' && e.stack ? e.stack : message}`);
      void vscode.window.showErrorMessage(`OOD Lens: ${message}`, 'Show Log').then((c) => c && this.log.show());
      return undefined;
    } finally {
      this.active = undefined;
      settle();
      this.listeners.forEach((l) => l.finished());
      if (this.rerunQueued) {
        this.rerunQueued = false;
        void this.rerun();
      }
    }
  }

  /** Watch mode: re-runs the last request now, or once the current run ends. */
  async rerun(): Promise<void> {
    if (!this.last) return;
    if (this.active) {
      this.rerunQueued = true;
      return;
    }
    await this.run(this.last);
  }

  private async publish(req: RunRequest, report: Report): Promise<void> {
    const { writeJsonReport } = await import('../engine/report/write');
    const { evaluateGates } = await import('../engine/gates');
    const file = vscode.Uri.joinPath(req.reportDir, 'latest.json').fsPath;
    await vscode.workspace.fs.createDirectory(req.reportDir);
    await writeJsonReport(report, file);
    const gates = req.gates ? evaluateGates(report, req.gates) : [];
    const failed = gates.filter((g) => !g.passed);
    this.log.info(`${req.label}: ${report.partial ? 'cancelled, partial report' : 'done'} in ${(report.durationMs / 1000).toFixed(1)} s → ${file}`);
    for (const g of failed) this.log.warn(`gate ${g.pointer}: ${g.message}`);
    const history = await recordHistory(report, { reportDir: req.reportDir.fsPath, configPath: req.configPath, origin: req.origin, gates }, (m) => this.log.warn(m));
    this.store.set({ report, file, origin: req.origin, baseDir: req.baseDir, gates, configPath: req.configPath, history });
    if (report.partial) void vscode.window.showWarningMessage(`OOD Lens: run cancelled. The partial report (${report.samples.length} samples) is shown.`);
    else if (failed.length > 0) void vscode.window.showWarningMessage(`OOD Lens: ${failed.length} of ${gates.length} gates failed (see Problems).`);
  }
}

function describeProgress(p: Progress): string {
  const where = [p.split, p.model && path.basename(p.model)].filter(Boolean).join(' · ');
  if (p.phase !== 'scoring') return `${p.phase}${where ? ` ${where}` : ''}…`;
  return `${where}: ${p.done}/${p.total} images · ${p.imagesPerSecond.toFixed(1)} images/s`;
}
