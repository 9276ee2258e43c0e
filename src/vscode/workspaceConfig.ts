// oodlens.json in the editor: CodeLens with the latest headline and Run / Open Report, and diagnostics for
// parse issues and failing gates (on the failing key), cleared when they pass.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { formatHeadlineDelta } from '../engine/history/metrics';
import { headline } from '../shared/headline';
import type { ReportStore } from './store';

export const CONFIG_NAME = 'oodlens.json';
const DEBOUNCE_MS = 300;

export const isConfig = (uri: vscode.Uri): boolean => uri.scheme === 'file' && path.basename(uri.fsPath) === CONFIG_NAME;

/** oodlens.json at the root of the first workspace folder that has one. */
export async function findWorkspaceConfig(): Promise<vscode.Uri | undefined> {
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    const uri = vscode.Uri.joinPath(folder.uri, CONFIG_NAME);
    try {
      await vscode.workspace.fs.stat(uri);
      return uri;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

export class ConfigCodeLens implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly store: ReportStore) {
    this.subscription = store.onDidChange(() => this.changed.fire());
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const top = new vscode.Range(0, 0, 0, 0);
    const lenses = [new vscode.CodeLens(top, { title: '$(play) Run', command: 'oodLens.runConfig', arguments: [doc.uri] })];
    const shown = this.store.current;
    const h = shown && headline(shown.report);
    if (shown && h) {
      const failed = shown.gates.filter((g) => !g.passed).length;
      const gates = shown.configPath === doc.uri.fsPath && shown.gates.length ? ` · gates ${shown.gates.length - failed}/${shown.gates.length}` : '';
      const previous = shown.history?.previous;
      const since = previous ? ` · (±) since the run of ${new Date(previous.createdAt).toLocaleString()}` : '';
      lenses.unshift(new vscode.CodeLens(top, { title: `OOD Lens: ${formatHeadlineDelta(h, previous?.metrics)}${gates}`, command: 'oodLens.openLastReport', tooltip: `${h.model} · ${h.score ?? ''} · ${shown.origin}${since}` }));
      lenses.push(new vscode.CodeLens(top, { title: 'Open Report', command: 'oodLens.openLastReport' }));
    }
    return lenses;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}

export class ConfigDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('oodLens');
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly disposables: vscode.Disposable[];

  constructor(private readonly store: ReportStore) {
    const schedule = (doc: vscode.TextDocument) => {
      if (!isConfig(doc.uri)) return;
      clearTimeout(this.timers.get(doc.uri.toString()));
      this.timers.set(doc.uri.toString(), setTimeout(() => void this.update(doc), DEBOUNCE_MS));
    };
    this.disposables = [
      vscode.workspace.onDidOpenTextDocument(schedule),
      vscode.workspace.onDidChangeTextDocument((e) => schedule(e.document)),
      store.onDidChange(() => vscode.workspace.textDocuments.forEach(schedule)),
    ];
    vscode.workspace.textDocuments.forEach(schedule);
  }

  /** Also called by Run Workspace Config for a file that is not open. */
  async update(doc: { uri: vscode.Uri; getText(): string }): Promise<void> {
    const text = doc.getText();
    // Loaded on first use: the JSON parser is not needed to activate.
    const [{ parseConfig }, { locatePointer }] = await Promise.all([import('../engine/config'), import('./jsonPointer')]);
    const { issues } = parseConfig(text, doc.uri.fsPath);
    const positions = new PositionMap(text);
    const diagnostics = issues.map((issue) => {
      const r = issue.offset !== undefined ? { start: issue.offset, end: issue.offset + Math.max(1, issue.length ?? 1) } : locatePointer(text, issue.path);
      const d = new vscode.Diagnostic(positions.range(r.start, r.end), issue.message, vscode.DiagnosticSeverity.Error);
      d.source = 'OOD Lens';
      return d;
    });
    const shown = this.store.current;
    if (shown && shown.configPath === doc.uri.fsPath) {
      for (const g of shown.gates.filter((x) => !x.passed)) {
        const r = locatePointer(text, g.pointer);
        const d = new vscode.Diagnostic(positions.range(r.start, r.end), `Gate failed: ${g.message}`, vscode.DiagnosticSeverity.Error);
        d.source = 'OOD Lens';
        d.code = g.gate;
        diagnostics.push(d);
      }
    }
    this.collection.set(doc.uri, diagnostics);
  }

  dispose(): void {
    this.timers.forEach((t) => clearTimeout(t));
    this.disposables.forEach((d) => d.dispose());
    this.collection.dispose();
  }
}

/** Offsets to positions without an open TextDocument. */
class PositionMap {
  private readonly lineStarts = [0];
  constructor(text: string) {
    for (let i = 0; i < text.length; i++) if (text[i] === '\n') this.lineStarts.push(i + 1);
  }
  position(offset: number): vscode.Position {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return new vscode.Position(lo, offset - this.lineStarts[lo]);
  }
  range(start: number, end: number): vscode.Range {
    return new vscode.Range(this.position(start), this.position(end));
  }
}
