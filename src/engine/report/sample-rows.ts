import type { SampleRow } from './types';
import type { PathSource } from '../dataset/path-list';

/** One split's per-sample outputs, column by column (typed arrays), as the analysis computed them. */
export interface SampleColumns {
  split: string;
  paths: PathSource;
  /** Class index into the first model's classes; −1 = none. Null for splits whose labels mean nothing (OOD). */
  labels: Int32Array | null;
  models: { name: string; prediction: Int32Array; scores: Record<string, Float64Array>; logits?: Float32Array; k?: number }[];
}

const finite = (v: number) => (Number.isFinite(v) ? v : null);

/**
 * A sample row read on demand from the columns: a report of 100,000 samples then costs a small object per sample
 * instead of a dozen nested objects and boxed numbers. `toJSON` gives the plain row, so JSON.stringify and
 * structured copies made through JSON see ordinary SampleRow objects.
 */
export class SampleView implements SampleRow {
  /** The columns and the row: the Parquet writer reads the typed arrays directly. */
  constructor(readonly cols: SampleColumns, readonly i: number) {}

  get path(): string {
    return this.cols.paths.get(this.i);
  }

  get split(): string {
    return this.cols.split;
  }

  get label(): number | null {
    const l = this.cols.labels?.[this.i] ?? -1;
    return l >= 0 ? l : null;
  }

  get prediction(): Record<string, number | null> {
    const out: Record<string, number | null> = {};
    for (const m of this.cols.models) out[m.name] = m.prediction[this.i] >= 0 ? m.prediction[this.i] : null;
    return out;
  }

  get scores(): Record<string, Record<string, number | null>> {
    const out: Record<string, Record<string, number | null>> = {};
    for (const m of this.cols.models) {
      const row: Record<string, number | null> = {};
      for (const name in m.scores) row[name] = finite(m.scores[name][this.i]);
      out[m.name] = row;
    }
    return out;
  }

  toJSON(): SampleRow {
    return { path: this.path, split: this.split, label: this.label, prediction: this.prediction, scores: this.scores };
  }
}

export function sampleRows(cols: SampleColumns): SampleView[] {
  return Array.from({ length: cols.paths.length }, (_, i) => new SampleView(cols, i));
}
