// The questions a run cannot answer itself. Each pick has a default that Enter accepts, and answers are
// remembered per workspace (per ID folder) so the next run asks the same questions with the last answers.
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  DEFAULT_NOISE, isCandidateFolder, noiseCount, orderCalibCandidates, orderModels, parseNoiseInput, preselectCalib,
  preselectOod, pushRecent,
} from './splitInference';

const RECENT_MODELS = 'oodLens.recentModels';
const RECENT_ID_FOLDERS = 'oodLens.recentIdFolders';
const ANSWERS = 'oodLens.answers';
const EXCLUDE = '**/{node_modules,.git,.oodlens,.venv,venv}/**';

interface Answers { ood: string[]; calib: string | null }
interface FolderItem extends vscode.QuickPickItem { value: string | null }

export class Pickers {
  constructor(private readonly state: vscode.Memento) {}

  /** The only *.onnx in the workspace, else a pick with recently used models first. */
  async model(title = 'Model to score with'): Promise<string | undefined> {
    const found = (await vscode.workspace.findFiles('**/*.onnx', EXCLUDE, 500)).map((u) => u.fsPath);
    if (found.length === 1) return found[0];
    if (found.length === 0) {
      const picked = await vscode.window.showOpenDialog({ title, canSelectMany: false, filters: { 'ONNX model': ['onnx'] } });
      return picked?.[0]?.fsPath;
    }
    const recent = this.state.get<string[]>(RECENT_MODELS, []);
    const items = orderModels(found, recent).map((p) => ({
      label: path.basename(p), description: vscode.workspace.asRelativePath(p, false), detail: recent.includes(p) ? 'recently used' : undefined, value: p,
    }));
    return (await vscode.window.showQuickPick(items, { title, placeHolder: 'Pick an ONNX model (Enter: the first)' }))?.value;
  }

  /** Two or more models for a comparison. */
  async models(): Promise<string[] | undefined> {
    const found = (await vscode.workspace.findFiles('**/*.onnx', EXCLUDE, 500)).map((u) => u.fsPath);
    const recent = this.state.get<string[]>(RECENT_MODELS, []);
    const items = orderModels(found, recent).map((p) => ({ label: path.basename(p), description: vscode.workspace.asRelativePath(p, false), picked: recent.includes(p), value: p }));
    const picked = await vscode.window.showQuickPick(items, { title: 'Models to compare', canPickMany: true, placeHolder: 'Pick two or more ONNX models' });
    return picked?.map((i) => i.value);
  }

  /** The ID folder for a run started from a model: the last one used first, or a folder dialog. */
  async idFolder(): Promise<string | undefined> {
    const recent = this.state.get<string[]>(RECENT_ID_FOLDERS, []);
    const browse = { label: '$(folder-opened) Browse…', value: undefined as string | undefined };
    if (recent.length > 0) {
      const items = [...recent.map((p) => ({ label: path.basename(p), description: vscode.workspace.asRelativePath(p, false), value: p as string | undefined })), browse];
      const pick = await vscode.window.showQuickPick(items, { title: 'In-distribution dataset folder', placeHolder: 'The data the model was trained for (Enter: the last used)' });
      if (!pick) return undefined;
      if (pick.value) return pick.value;
    }
    return this.folder('In-distribution dataset folder');
  }

  async folder(title: string): Promise<string | undefined> {
    const picked = await vscode.window.showOpenDialog({ title, canSelectFiles: false, canSelectFolders: true, canSelectMany: false, defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri });
    return picked?.[0]?.fsPath;
  }

  /** OOD sets among the ID folder's siblings (names with "ood" pre-selected) plus synthetic noise; `exclude` never offered. */
  async oodSets(idFolder: string, exclude: string[] = []): Promise<string[] | undefined> {
    const siblings = (await siblingFolders(idFolder)).filter((s) => !exclude.includes(s.path));
    const remembered = this.answers(idFolder)?.ood;
    const pre = preselectOod(siblings.map((s) => s.path), remembered);
    const preNoise = pre.map(noiseCount).find((n) => n !== undefined);
    const items: FolderItem[] = siblings.map((s) => ({ label: s.name, description: vscode.workspace.asRelativePath(s.path, false), picked: pre.includes(s.path), value: s.path }));
    items.push({ label: '$(symbol-misc) Synthetic noise', description: `noise:N — ${preNoise ?? DEFAULT_NOISE} random images`, picked: preNoise !== undefined, value: 'noise' });
    const picked = await vscode.window.showQuickPick(items, {
      title: `OOD sets for ${path.basename(idFolder)}`, canPickMany: true, placeHolder: 'Folders the model should flag as out-of-distribution (Enter: keep the selection)',
    });
    if (!picked) return undefined;
    const out: string[] = [];
    for (const p of picked) {
      if (p.value !== 'noise') {
        out.push(p.value!);
        continue;
      }
      const answer = await vscode.window.showInputBox({
        title: 'Synthetic noise images', prompt: 'How many random-noise images to score as an OOD set', value: String(preNoise ?? DEFAULT_NOISE),
        validateInput: (v) => (parseNoiseInput(v) === undefined ? 'A whole number from 1 to 1,000,000' : undefined),
      });
      if (answer === undefined) return undefined;
      out.push(`noise:${parseNoiseInput(answer)}`);
    }
    return out;
  }

  /**
   * Training outliers for fine-tuning: synthetic noise (seed 1, so never the images of a test `noise:N`) or a
   * sibling folder of the fit folder. They are then left out of the OOD sets offered.
   */
  async outliers(fitFolder: string): Promise<string | undefined> {
    const folders: FolderItem[] = (await siblingFolders(fitFolder)).map((s) => ({ label: s.name, description: vscode.workspace.asRelativePath(s.path, false), value: s.path }));
    const noise: FolderItem = { label: '$(symbol-misc) Synthetic noise', description: `noise:N:1 — ${DEFAULT_NOISE} random images, another seed than the test noise`, value: 'noise' };
    const picked = await vscode.window.showQuickPick([noise, ...folders], {
      title: 'Training outliers', placeHolder: 'Images pushed to high energy while fitting; never scored as a test OOD set (Enter: noise)',
    });
    if (!picked || picked.value !== 'noise') return picked?.value ?? undefined;
    const answer = await vscode.window.showInputBox({
      title: 'Synthetic noise outliers', prompt: 'How many random-noise images to train with', value: String(DEFAULT_NOISE),
      validateInput: (v) => (parseNoiseInput(v) === undefined ? 'A whole number from 1 to 1,000,000' : undefined),
    });
    return answer === undefined ? undefined : `noise:${parseNoiseInput(answer)}:1`;
  }

  /** A calibration folder among the siblings ("calib" in its name first), or none. `undefined` = cancelled. */
  async calibFolder(idFolder: string, exclude: string[]): Promise<string | null | undefined> {
    const siblings = (await siblingFolders(idFolder)).filter((s) => !exclude.includes(s.path));
    const remembered = this.answers(idFolder)?.calib;
    const pre = preselectCalib(siblings.map((s) => s.path), remembered);
    const none: FolderItem = { label: '$(circle-slash) None', description: 'no temperature scaling; the threshold is fitted on the ID split', value: null };
    const folders: FolderItem[] = orderCalibCandidates(siblings.map((s) => s.path), pre).map((p) => ({ label: path.basename(p), description: vscode.workspace.asRelativePath(p, false), value: p }));
    const items = pre === null ? [none, ...folders] : [...folders, none];
    const picked = await vscode.window.showQuickPick(items, { title: 'Calibration folder', placeHolder: 'Held-out labelled data for temperature scaling and the deployment threshold (Enter: the first)' });
    return picked === undefined ? undefined : picked.value;
  }

  async remember(idFolder: string, models: string[], answers: Answers): Promise<void> {
    const all = this.state.get<Record<string, Answers>>(ANSWERS, {});
    await this.state.update(ANSWERS, { ...all, [idFolder]: answers });
    await this.state.update(RECENT_MODELS, pushRecent(this.state.get<string[]>(RECENT_MODELS, []), models));
    await this.state.update(RECENT_ID_FOLDERS, pushRecent(this.state.get<string[]>(RECENT_ID_FOLDERS, []), [idFolder], 5));
  }

  private answers(idFolder: string): Answers | undefined {
    return this.state.get<Record<string, Answers>>(ANSWERS, {})[idFolder];
  }
}

async function siblingFolders(folder: string): Promise<{ name: string; path: string }[]> {
  const parent = path.dirname(folder);
  let entries: [string, vscode.FileType][];
  try {
    entries = await vscode.workspace.fs.readDirectory(vscode.Uri.file(parent));
  } catch {
    return [];
  }
  return entries
    .filter(([name, type]) => type === vscode.FileType.Directory && isCandidateFolder(name) && path.join(parent, name) !== folder)
    .map(([name]) => ({ name, path: path.join(parent, name) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}
