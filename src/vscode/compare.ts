// OOD Lens: Compare Reports…: two kept runs (Enter twice compares the previous run with the latest), two report
// files, or two models of the shown report; then the Compare panel. Each question has a default Enter accepts.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { HistoryEntry } from '../engine/history/types';
import type { Report } from '../engine/report/types';
import { headlineModel, reportModels } from '../shared/headline';
import { ComparePanel, type ShownSide } from './comparePanel';
import { keptRuns } from './history';
import { loadReport, type ReportStore } from './store';

interface Run { file: string; entry: HistoryEntry }
interface Choice<T> extends vscode.QuickPickItem { value: T }

export async function compareReports(ctx: vscode.ExtensionContext, store: ReportStore): Promise<void> {
  const shown = store.current ?? (await store.restore());
  const runs = await allKeptRuns(shown?.file);
  const modes: Choice<'runs' | 'files' | 'models'>[] = [
    ...(runs.length >= 2 ? [{ label: 'Two kept runs', detail: `${runs.length} runs kept in .oodlens/reports`, value: 'runs' as const }] : []),
    { label: 'Two report files…', detail: 'JSON reports written by OOD Lens or ood-lens --json', value: 'files' },
    ...(shown && reportModels(shown.report).length >= 2 ? [{ label: 'Two models of the shown report', detail: reportModels(shown.report).join(', '), value: 'models' as const }] : []),
  ];
  const mode = (await vscode.window.showQuickPick(modes, { title: 'Compare Reports', placeHolder: 'What to compare (Enter: the first)' }))?.value;
  let sides: [ShownSide, ShownSide] | undefined;
  if (mode === 'runs') sides = await pickRuns(runs);
  else if (mode === 'files') sides = await pickFiles();
  else if (mode === 'models' && shown) sides = await pickModels(shown.report, shown.baseDir);
  if (!sides) return;
  const { diffReports } = await import('../engine/compare/diff');
  ComparePanel.show(ctx, sides[0], sides[1], diffReports(sides[0], sides[1]));
}

/** Kept runs of the shown report's folder and of every workspace folder's .oodlens/reports, newest first. */
async function allKeptRuns(shownFile: string | undefined): Promise<Run[]> {
  const dirs = new Set([...(shownFile ? [path.dirname(shownFile)] : []), ...(vscode.workspace.workspaceFolders ?? []).map((f) => path.join(f.uri.fsPath, '.oodlens', 'reports'))]);
  const all = (await Promise.all([...dirs].map((d) => keptRuns(d)))).flat();
  return all.sort((a, b) => b.entry.createdAt.localeCompare(a.entry.createdAt));
}

const when = (iso: string) => new Date(iso).toLocaleString();
const hash = (h: string | null) => (h ? ` ${h.slice(0, 10)}` : '');

async function pickRuns(runs: Run[]): Promise<[ShownSide, ShownSide] | undefined> {
  const items: Choice<Run>[] = runs.map((r) => ({
    label: `${when(r.entry.createdAt)} · ${r.entry.origin}`,
    description: r.entry.models.map((m) => `${path.basename(m.path)}${hash(m.sha256)}`).join(', '),
    value: r,
  }));
  // The natural question is "what did the last run change": A = the run before the newest, B = the newest.
  const a = await pickOne(items, 'Compare Reports: A (before)', items[1]);
  if (!a) return undefined;
  const b = await pickOne(items.filter((i) => i !== a), 'Compare Reports: B (after)', items.find((i) => i !== a));
  if (!b) return undefined;
  const sides: ShownSide[] = [];
  for (const [tag, run] of [['A', a.value], ['B', b.value]] as const) {
    const report = await loadReport(vscode.Uri.file(run.file));
    if (!report) return undefined;
    const model = await pickModel(report, tag);
    if (!model) return undefined;
    sides.push({ label: `${tag} · ${when(run.entry.createdAt)}`, report, model, baseDir: workspaceFolderOf(run.file), files: run.entry.models });
  }
  return [sides[0], sides[1]];
}

async function pickFiles(): Promise<[ShownSide, ShownSide] | undefined> {
  const sides: ShownSide[] = [];
  for (const tag of ['A', 'B'] as const) {
    const uri = (await vscode.window.showOpenDialog({ title: `Compare Reports: report ${tag}`, canSelectMany: false, filters: { 'OOD Lens report': ['json'] } }))?.[0];
    const report = uri && (await loadReport(uri));
    const model = report && (await pickModel(report, tag));
    if (!uri || !report || !model) return undefined;
    sides.push({ label: `${tag} · ${path.basename(uri.fsPath)}`, report, model, baseDir: workspaceFolderOf(uri.fsPath) });
  }
  return [sides[0], sides[1]];
}

async function pickModels(report: Report, baseDir: string | undefined): Promise<[ShownSide, ShownSide] | undefined> {
  const names = reportModels(report);
  const a = await pickOne(names.map((n) => ({ label: n, value: n })), 'Compare Reports: model A', undefined);
  const b = a && (await pickOne(names.filter((n) => n !== a.value).map((n) => ({ label: n, value: n })), 'Compare Reports: model B', undefined));
  if (!a || !b) return undefined;
  return [{ label: `A · ${a.value}`, report, model: a.value, baseDir }, { label: `B · ${b.value}`, report, model: b.value, baseDir }];
}

/** The report's only model, else a pick with its headline model (the ensemble when there is one) first. */
async function pickModel(report: Report, tag: 'A' | 'B'): Promise<string | undefined> {
  const names = reportModels(report);
  if (names.length <= 1) return names[0];
  const first = headlineModel(report);
  const items = [...names].sort((x, y) => Number(y === first) - Number(x === first)).map((n) => ({ label: n, value: n }));
  return (await pickOne(items, `Compare Reports: model of ${tag}`, items[0]))?.value;
}

/** A quick pick whose Enter accepts `active`. */
function pickOne<T>(items: Choice<T>[], title: string, active: Choice<T> | undefined): Promise<Choice<T> | undefined> {
  return new Promise((resolve) => {
    const qp = vscode.window.createQuickPick<Choice<T>>();
    qp.title = title;
    qp.placeholder = 'Enter: the highlighted one';
    qp.items = items;
    if (active) qp.activeItems = [active];
    let picked: Choice<T> | undefined;
    qp.onDidAccept(() => {
      picked = qp.selectedItems[0] ?? qp.activeItems[0];
      qp.hide();
    });
    qp.onDidHide(() => {
      qp.dispose();
      resolve(picked);
    });
    qp.show();
  });
}

function workspaceFolderOf(file: string): string | undefined {
  return vscode.workspace.getWorkspaceFolder(vscode.Uri.file(file))?.uri.fsPath;
}
