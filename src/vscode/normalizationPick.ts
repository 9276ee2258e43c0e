// A model that does not say how its pixels were normalized gets one question before its first run: the presets,
// each with its accuracy on a sample of the ID folder, or a custom sidecar. The answer goes into <model>.json,
// so the CLI and every later run read it too.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { NormalizationCheck } from '../engine/normalization';
import type { Preset } from '../engine/model/hint-sources';
import { runDefaults } from './settings';

interface PresetItem extends vscode.QuickPickItem {
  preset?: Preset;
}

const CHOICES: { preset: Preset; label: string; measured?: keyof NormalizationCheck['accuracy'] }[] = [
  { preset: 'imagenet', label: 'ImageNet mean/std', measured: 'imagenet' },
  { preset: 'inception', label: 'Inception: mean 0.5, std 0.5', measured: 'inception' },
  { preset: 'none', label: 'None: pixels in [0, 1]', measured: 'none' },
  { preset: 'clip', label: 'CLIP mean/std, bicubic' },
];

/** The quick pick's rows: measured presets by accuracy, then CLIP, then custom. */
export function presetItems(check: NormalizationCheck | null): PresetItem[] {
  const acc = (c: (typeof CHOICES)[number]) => (check && c.measured ? check.accuracy[c.measured] : -1);
  const rows = [...CHOICES].sort((a, b) => acc(b) - acc(a)).map((c): PresetItem => ({
    label: c.label,
    preset: c.preset,
    description: check && c.measured ? `${(100 * check.accuracy[c.measured]).toFixed(1)}% on ${check.samples} ID images` : undefined,
  }));
  return [...rows, { label: 'Custom…', detail: 'Write mean, std, resize, crop or interpolation in the model\'s sidecar .json' }];
}

/**
 * Asks for the normalization of `model` when no flag, sidecar, metadata or Hugging Face / timm file gives one.
 * Resolves false when the user closes the pick or chooses to write the sidecar by hand (the run does not start).
 */
export async function askNormalization(model: string, id: string): Promise<boolean> {
  const engine = await import('../engine/normalization');
  // A model that cannot be read is refused by the run itself, with its own message.
  const defaults = runDefaults().preprocessDefaults;
  if (!(await engine.lacksNormalization(model, defaults).catch(() => false))) return true;
  const base = path.basename(model);
  const check = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `OOD Lens: trying normalizations of ${base} on ${path.basename(id)}`, cancellable: true },
    (_progress, token) => {
      const c = new AbortController();
      token.onCancellationRequested(() => c.abort());
      return engine.checkNormalization(model, id, c.signal, defaults).catch(() => null);
    });
  const pick = await vscode.window.showQuickPick(presetItems(check), {
    title: `How were ${base}'s pixels normalized in training?`,
    placeHolder: 'The answer is saved in the model\'s sidecar .json for every later run',
    ignoreFocusOut: true,
  });
  if (!pick) return false;
  const file = await engine.rememberHints(model, pick.preset ? { preset: pick.preset } : {});
  if (!pick.preset) {
    await vscode.window.showTextDocument(vscode.Uri.file(file));
    return false;
  }
  return true;
}
