// The panel's operating point: the numbers at a clicked threshold (from the shown report's per-sample scores), and
// "Use as deployment threshold", which writes it into the report's oodlens.json and applies it to the shown report at
// once, so the Explorer badges, the gallery and the gates follow without a re-run (the next run reads it too).
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { OperatingPoint } from '../engine/operating-point';
import { modelScores, reportModels } from '../shared/headline';
import type { PickAt } from '../shared/protocol';
import type { ReportStore } from './store';

export async function pickOperatingPoint(store: ReportStore, model: string, score: string, at: PickAt): Promise<{ point: OperatingPoint | null; error?: string }> {
  const shown = store.current;
  if (!shown) return { point: null, error: 'No report is shown.' };
  const { hasSampleScores, operatingPoint, thresholdForFpr } = await import('../engine/operating-point');
  if (!hasSampleScores(shown.report, model, score)) {
    return { point: null, error: `The report has no per-sample ${score} scores for ${model}${shown.report.samplesFile ? ` (they are in ${shown.report.samplesFile})` : ''}: the operating point needs them.` };
  }
  const threshold = 'threshold' in at ? at.threshold : thresholdForFpr(shown.report, model, score, at.fpr);
  return Number.isFinite(threshold) ? { point: operatingPoint(shown.report, model, score, threshold) } : { point: null, error: 'No ID scores to place a threshold on.' };
}

export async function useAsDeploymentThreshold(store: ReportStore, model: string, score: string, threshold: number): Promise<void> {
  const shown = store.current;
  if (!shown || !reportModels(shown.report).includes(model) || !modelScores(shown.report, model).includes(score)) return;
  if (!shown.configPath) {
    void vscode.window.showWarningMessage('OOD Lens: this report was not made from an oodlens.json; run one (Run Workspace Config) to save a deployment threshold.');
    return;
  }
  const config = vscode.Uri.file(shown.configPath);
  let text: string;
  try {
    text = await writeThreshold(config, { model, score, threshold });
  } catch (e) {
    void vscode.window.showErrorMessage(`OOD Lens: ${(e as Error).message}`);
    return;
  }
  const [{ parseConfig }, { evaluateGates }, { withConfiguredThresholds }] = await Promise.all([import('../engine/config'), import('../engine/gates'), import('../engine/operating-point')]);
  const parsed = parseConfig(text, config.fsPath);
  const report = withConfiguredThresholds(shown.report, parsed.thresholds ?? []);
  store.set({ ...shown, report, gates: parsed.gates ? evaluateGates(report, parsed.gates) : shown.gates });
  void vscode.window.showInformationMessage(`OOD Lens: deployment threshold of ${model} / ${score} set to ${threshold.toPrecision(6)} in ${path.basename(config.fsPath)}; the badges, gallery and gates use it, and so will the next run.`);
}

/** Edits the file as a document (an open editor keeps its undo history), then saves it. */
async function writeThreshold(config: vscode.Uri, entry: { model: string; score: string; threshold: number }): Promise<string> {
  const { thresholdEdits } = await import('./thresholdEdit');
  const doc = await vscode.workspace.openTextDocument(config);
  const edit = new vscode.WorkspaceEdit();
  for (const e of thresholdEdits(doc.getText(), entry)) edit.replace(config, new vscode.Range(doc.positionAt(e.offset), doc.positionAt(e.offset + e.length)), e.content);
  if (!(await vscode.workspace.applyEdit(edit)) || !(await doc.save())) throw new Error(`could not write ${config.fsPath}`);
  return doc.getText();
}
