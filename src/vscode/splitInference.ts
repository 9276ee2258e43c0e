// What the Score Dataset flow can guess from folder names, so that pressing Enter through the picks works.
// Pure: no vscode import, unit-tested.

/** The folder's own name: siblings arrive as paths, and a project path containing "ood" must not tick them all. */
const baseName = (p: string): string => p.replace(/[\\/]+$/, '').split(/[\\/]/).pop() ?? p;

/** OOD folders by name: ood, ood_near, OOD-far, near_ood, …; not words that merely contain "ood" (goods, food). */
export const isOodName = (p: string): boolean => /(^|[^a-z])ood([^a-z]|$)/i.test(baseName(p));
export const isCalibName = (p: string): boolean => /calib/i.test(baseName(p));

const NOISE = /^noise:(\d+)$/;
export const DEFAULT_NOISE = 1000;

/** Folders never offered as splits. */
export function isCandidateFolder(name: string): boolean {
  return !name.startsWith('.') && name !== 'node_modules' && name !== '__pycache__';
}

/** Remembered answers win where they still exist; otherwise every sibling whose name contains "ood". */
export function preselectOod(siblings: string[], remembered: string[] | undefined): string[] {
  const kept = (remembered ?? []).filter((r) => siblings.includes(r) || NOISE.test(r));
  if (kept.length > 0) return kept;
  const byName = siblings.filter(isOodName);
  // With no OOD folder at all, synthetic noise is the only OOD set that Enter can accept.
  return byName.length > 0 ? byName : [`noise:${DEFAULT_NOISE}`];
}

/** `null` means "no calibration folder"; a remembered `null` is an answer too. */
export function preselectCalib(siblings: string[], remembered: string | null | undefined): string | null {
  if (remembered === null) return null;
  if (remembered !== undefined && siblings.includes(remembered)) return remembered;
  return siblings.find(isCalibName) ?? null;
}

/** Calibration candidates: the OOD folders are poor calibration sets, so they come last. */
export function orderCalibCandidates(siblings: string[], preselected: string | null): string[] {
  const rest = siblings.filter((s) => s !== preselected).sort((a, b) => Number(isOodName(a)) - Number(isOodName(b)) || a.localeCompare(b));
  return preselected === null ? rest : [preselected, ...rest];
}

/** Recently used models first (most recent first), then the others in path order. */
export function orderModels(models: string[], recent: string[]): string[] {
  const recentFirst = recent.filter((r) => models.includes(r));
  return [...recentFirst, ...models.filter((m) => !recentFirst.includes(m)).sort((a, b) => a.localeCompare(b))];
}

/** Most recent first, without duplicates, at most `max`. */
export function pushRecent<T>(list: readonly T[], items: T[], max = 10): T[] {
  return [...items, ...list.filter((x) => !items.includes(x))].slice(0, max);
}

export function noiseCount(spec: string): number | undefined {
  const m = NOISE.exec(spec);
  return m ? Number(m[1]) : undefined;
}

/** Accepts "N" or "noise:N" with 1 ≤ N ≤ 1,000,000. */
export function parseNoiseInput(input: string): number | undefined {
  const m = /^\s*(?:noise:)?(\d+)\s*$/.exec(input);
  if (!m) return undefined;
  const n = Number(m[1]);
  return n >= 1 && n <= 1_000_000 ? n : undefined;
}

export function finetunedModelPath(model: string): string {
  return model.replace(/(\.onnx)?$/i, '.energy.onnx');
}

export function calibratedModelPath(model: string): string {
  return model.replace(/(\.onnx)?$/i, '.calibrated.onnx');
}
