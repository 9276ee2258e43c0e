// The run history kept in .oodlens/reports/: one copy of each run's report and an index of their headline numbers,
// so the panel shows the change since the previous run and a trend without reading every report.

/** A model file as it was when the run was kept. */
export interface HistoryModel {
  name: string;
  path: string;
  /** sha256 of the file's bytes (hex); null when it could not be read (a precomputed folder, a deleted file). */
  sha256: string | null;
}

/** The numbers a run is compared on; null where a metric was not finite (JSON has no NaN). */
export interface RunMetrics {
  ood: { model: string; split: string; score: string; auroc: number | null; fpr95: number | null }[];
  /** Before temperature scaling (the model as shipped). */
  calibration: { model: string; split: string; ece: number | null; accuracy: number | null }[];
  /** Gates as evaluated when the run finished; null when the run had none. */
  gates: { passed: number; total: number } | null;
}

export interface HistoryEntry {
  /** The report's copy, a file name in the reports folder. */
  file: string;
  createdAt: string;
  /** Runs with the same key are compared: `config:<oodlens.json path>`, else `models:<model paths>`. */
  key: string;
  origin: string;
  partial: boolean;
  models: HistoryModel[];
  metrics: RunMetrics;
}

export interface HistoryIndex {
  version: 1;
  /** Oldest first. */
  entries: HistoryEntry[];
}

/** What the panel, status bar and CodeLens know about a shown report's history. */
export interface HistoryContext {
  /** Runs of the same key, oldest first (the shown one included when it was kept). */
  entries: HistoryEntry[];
  /** The shown report's own entry. */
  current?: HistoryEntry;
  /** The run of the same key just before it. */
  previous?: HistoryEntry;
}
