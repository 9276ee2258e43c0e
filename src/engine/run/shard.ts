// `ood-lens score --shard I/N --shard-out FILE.parquet`: one process of a cluster job scores its slice of every
// split and writes what `ood-lens merge` needs to build the single run's report: per sample the split, its index
// in the split's listing, path, folder class, each model's logits and (when the model has a feature tensor) its
// features; in the footer, the plans of the models and splits, the files skipped, and the final linear layers.
// Features are kept whole rather than as sufficient statistics (means, co-moments): sums made in another order
// would not give the single run's numbers to the last digit, and KNN-like methods need the rows anyway.
import type { LoadedModel, SplitOutputs } from './collect';
import type { SplitPlan } from './plan';
import { planSize } from './plan';
import { shardRange, slicePlan, type Shard } from './shard-slice';
import type { RunOptions } from '../options';
import { readLastLayer } from '../onnx/last-layer';
import { ParquetTableWriter, type ColumnSpec, type ColumnValues } from '../parquet/write';
import { UserError } from '../util/errors';

export const SHARD_FORMAT = 1;
const GROUP_ROWS = 16_384;

/** The footer of a shard file (key `oodlens.shard`). */
export interface ShardMeta {
  format: number;
  index: number;
  count: number;
  partial: boolean;
  batchSize: number;
  /** The run's options, minus what only the CLI needs: merge builds the report with them. */
  options: Omit<RunOptions, 'models' | 'id' | 'ood' | 'holdout' | 'calib' | 'fit' | 'cache' | 'decodeThreads' | 'decodeConcurrency'>;
  models: (Pick<LoadedModel, 'plan' | 'provider' | 'outputKind' | 'featuresPooled' | 'cpuCheck' | 'normalizationCheck'> & { k: number; d: number })[];
  splits: { name: string; role: SplitPlan['role']; source: string; classes: string[]; classIndices?: boolean; size: number; collected: boolean; start: number; end: number; listingSkipped: SplitPlan['skipped']; decodeSkipped: SplitPlan['skipped']; rows: number }[];
  /** Per model with features: its final layer, base64 float32 (ViM, ReAct, … read it; merge may not see the .onnx). */
  lastLayers: Record<string, { k: number; d: number; W: string; b: string }>;
}

const b64 = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

export class ShardRun {
  private readonly ranges = new Map<string, { start: number; end: number }>();
  private readonly features = new Map<string, { data: Float32Array; d: number }>();
  private readonly outputs: SplitOutputs[] = [];

  constructor(readonly shard: Shard, readonly file: string, private readonly batchSize: number) {}

  /** The part of a split this shard collects. */
  slice(plan: SplitPlan): SplitPlan {
    if (plan.attack) throw new UserError(`--shard: attack splits (${plan.source}) are searched with the whole model run; score them without --shard`);
    const range = shardRange(planSize(plan), this.batchSize, this.shard);
    this.ranges.set(plan.name, range);
    return slicePlan(plan, range);
  }

  /** Keeps one batch's features (a copy: the buffers are reused). */
  record(model: string, split: SplitPlan, f: Float32Array | null, n: number, d: number, offset: number): void {
    if (!f || d === 0) return;
    const key = `${model}\u0000${split.name}`;
    let e = this.features.get(key);
    if (!e) this.features.set(key, (e = { data: new Float32Array(planSize(split) * d), d }));
    e.data.set(f.subarray(0, n * d), offset * d);
  }

  collected(out: SplitOutputs): void {
    this.outputs.push(out);
  }

  async write(models: LoadedModel[], plans: SplitPlan[], opts: RunOptions, partial: boolean): Promise<{ file: string; rows: number }> {
    const dims = models.map((m) => {
      const first = this.outputs.find((o) => o.paths.length > 0);
      const k = first?.perModel.get(m.plan.name)?.numClasses ?? m.plan.numClasses ?? 0;
      const d = this.outputs.map((o) => this.features.get(`${m.plan.name}\u0000${o.plan.name}`)?.d).find((x) => x) ?? 0;
      return { m, k, d };
    });
    const columns: ColumnSpec[] = [
      { name: 'split', kind: 'string' }, { name: 'index', kind: 'int32' }, { name: 'path', kind: 'string' }, { name: 'folder_class', kind: 'int32' },
    ];
    for (const { m, k, d } of dims) {
      columns.push({ name: `${m.plan.name}:logits`, kind: 'floats', width: k });
      if (d) columns.push({ name: `${m.plan.name}:features`, kind: 'floats', width: d });
    }
    const meta = this.meta(dims, plans, opts, partial);
    const w = await ParquetTableWriter.create(this.file, columns, { 'oodlens.shard': JSON.stringify(meta) });
    let rows = 0;
    try {
      for (const out of this.outputs) {
        for (let s = 0; s < out.paths.length; s += GROUP_ROWS) {
          const n = Math.min(GROUP_ROWS, out.paths.length - s);
          w.append(n, this.groupValues(out, dims, s, n));
          rows += n;
        }
      }
      await w.close();
    } catch (e) {
      w.abandon();
      throw e;
    }
    return { file: this.file, rows };
  }

  private groupValues(out: SplitOutputs, dims: { m: LoadedModel; k: number; d: number }[], s: number, n: number): Record<string, ColumnValues> {
    const start = this.ranges.get(out.plan.name)!.start;
    const v: Record<string, ColumnValues> = {
      split: new Array<string>(n).fill(out.plan.name),
      index: Int32Array.from({ length: n }, (_, i) => start + out.indices![s + i]),
      path: Array.from({ length: n }, (_, i) => out.paths.get(s + i)),
      folder_class: out.folderClass.slice(s, s + n),
    };
    for (const { m, k, d } of dims) {
      v[`${m.plan.name}:logits`] = out.perModel.get(m.plan.name)!.logits.slice(s * k, (s + n) * k);
      if (d) {
        const f = this.features.get(`${m.plan.name}\u0000${out.plan.name}`);
        v[`${m.plan.name}:features`] = f ? f.data.slice(s * d, (s + n) * d) : new Float32Array(n * d).fill(NaN);
      }
    }
    return v;
  }

  private meta(dims: { m: LoadedModel; k: number; d: number }[], plans: SplitPlan[], opts: RunOptions, partial: boolean): ShardMeta {
    // Where each process caches or how many threads it decodes with is its own business, not the run's.
    const { models: _m, id: _i, ood: _o, holdout: _h, calib: _c, fit: _f, cache: _k, decodeThreads: _t, decodeConcurrency: _d, ...options } = opts;
    const lastLayers: ShardMeta['lastLayers'] = {};
    for (const { m, d } of dims) {
      const layer = d && m.plan.inputName ? readLastLayer(m.plan.path, m.plan.logitsOutput) : null;
      if (layer) lastLayers[m.plan.name] = { k: layer.k, d: layer.d, W: b64(layer.W), b: b64(layer.b) };
    }
    return {
      format: SHARD_FORMAT, index: this.shard.index, count: this.shard.count, partial, batchSize: this.batchSize, options,
      models: dims.map(({ m, k, d }) => ({ plan: m.plan, provider: m.provider, outputKind: m.outputKind, featuresPooled: m.featuresPooled, cpuCheck: m.cpuCheck, normalizationCheck: m.normalizationCheck, k, d })),
      splits: plans.filter((p) => p.role !== 'outliers').map((p) => {
        const out = this.outputs.find((o) => o.plan.name === p.name);
        const range = this.ranges.get(p.name) ?? { start: 0, end: 0 };
        return {
          name: p.name, role: p.role, source: p.source, classes: p.classes, ...(p.classIndices ? { classIndices: true } : {}),
          size: planSize(p), collected: !!out, start: range.start, end: range.end, listingSkipped: p.skipped, decodeSkipped: out?.skipped ?? [], rows: out?.paths.length ?? 0,
        };
      }),
      lastLayers,
    };
  }
}
