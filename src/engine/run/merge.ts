// `ood-lens merge SHARD...`: the report a single run would have produced, from the shard files of `--shard I/N`.
// Splits are rebuilt in listing order; the OOD methods see the same batches, in the same order, as in a single run
// (batch j = listing indices [j·B, (j + 1)·B) less the files that failed), so fits, scores and every metric are
// the same numbers to the last digit.
import type { Report } from '../report/types';
import type { RunOptions } from '../options';
import type { SplitPlan } from './plan';
import type { SplitOutputs } from './collect';
import type { ShardMeta } from './shard';
import { SHARD_FORMAT } from './shard';
import { PathList } from '../dataset/path-list';
import { FeatureScoring } from '../analysis/feature-scoring';
import { buildReport, type RunData } from '../analysis/build-report';
import { methodChoice } from '../ood/choice';
import { resolveClasses } from './classes';
import { openParquet, readRows, rowGroups, listColumn, type ParquetTable } from '../parquet/read';
import { UserError, CancelledError } from '../util/errors';

interface Opened {
  table: ParquetTable;
  meta: ShardMeta;
}

async function openShard(file: string): Promise<Opened> {
  const table = await openParquet(file);
  const raw = table.kv['oodlens.shard'];
  if (!raw) {
    await table.close();
    throw new UserError(`${file} is not an OOD Lens shard file (no oodlens.shard metadata; make it with ood-lens score --shard I/N --shard-out FILE)`);
  }
  const meta = JSON.parse(raw) as ShardMeta;
  if (meta.format !== SHARD_FORMAT) throw new UserError(`${file}: shard format ${meta.format}, this OOD Lens reads ${SHARD_FORMAT}`);
  return { table, meta };
}

/** Every shard of one run, once, none cancelled. */
function checkSet(shards: Opened[]): void {
  const first = shards[0].meta;
  const same = (m: ShardMeta) => JSON.stringify([m.count, m.batchSize, m.options, m.models.map((x) => [x.plan.name, x.plan.path, x.k, x.d]), m.splits.map((s) => [s.name, s.role, s.source, s.size])]);
  const key = same(first);
  for (const s of shards) {
    if (same(s.meta) !== key) throw new UserError(`${s.table.file} is from another run than ${shards[0].table.file} (options, models or splits differ)`);
    if (s.meta.partial) throw new UserError(`${s.table.file}: shard ${s.meta.index} was cancelled before it finished; run it again`);
  }
  const seen = new Map<number, string>();
  for (const s of shards) {
    const dup = seen.get(s.meta.index);
    if (dup) throw new UserError(`Shard ${s.meta.index}/${first.count} given twice: ${dup} and ${s.table.file}`);
    seen.set(s.meta.index, s.table.file);
  }
  const missing = Array.from({ length: first.count }, (_, i) => i).filter((i) => !seen.has(i));
  if (missing.length) throw new UserError(`Missing shard(s) ${missing.map((i) => `${i}/${first.count}`).join(', ')}: merge needs all ${first.count}`);
}

function decodeF32(b64: string): Float32Array {
  const buf = Buffer.from(b64, 'base64');
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

export async function mergeShards(files: string[], hooks: { signal?: AbortSignal; log?(level: 'info' | 'warn' | 'error', m: string): void } = {}): Promise<Report> {
  const started = Date.now();
  if (!files.length) throw new UserError('merge needs the shard files: ood-lens merge SHARD.parquet ...');
  const shards: Opened[] = [];
  try {
    for (const f of files) shards.push(await openShard(f));
    checkSet(shards);
    shards.sort((a, b) => a.meta.index - b.meta.index);
    return await mergeOpened(shards, started, hooks);
  } finally {
    await Promise.all(shards.map((s) => s.table.close()));
  }
}

async function mergeOpened(shards: Opened[], started: number, hooks: { signal?: AbortSignal; log?(level: 'info' | 'warn' | 'error', m: string): void }): Promise<Report> {
  const meta = shards[0].meta;
  const log = hooks.log ?? (() => undefined);
  const opts = { ...meta.options, models: [], id: '' } as RunOptions;
  const plans: SplitPlan[] = meta.splits.map((s) => ({
    name: s.name, role: s.role, source: s.source, files: new PathList(), folderClass: new Int32Array(0), classes: s.classes,
    ...(s.classIndices ? { classIndices: true } : {}), skipped: s.listingSkipped, size: s.size,
  }));
  for (const s of shards.slice(1)) {
    s.meta.models.forEach((m, i) => {
      if (m.outputKind !== meta.models[i].outputKind) log('warn', `${m.plan.name}: shard ${s.meta.index} read its outputs as ${m.outputKind}, shard 0 as ${meta.models[i].outputKind}; shard 0's reading is used`);
    });
  }
  const models = meta.models.map((m) => ({ plan: m.plan, provider: m.provider, outputKind: m.outputKind ?? 'logits', featuresPooled: m.featuresPooled, cpuCheck: m.cpuCheck, normalizationCheck: m.normalizationCheck }));
  const features = new FeatureScoring(plans.some((p) => p.role === 'fit'), plans.some((p) => p.role === 'calib'), methodChoice(opts));
  try {
    const idPlan = plans.find((p) => p.role === 'id')!;
    const classes = new Map(models.map((m) => [m.plan.name, resolveClasses(m.plan, idPlan, m.plan.numClasses ?? m.plan.classes?.length ?? idPlan.classes.length).classes]));
    features.classesOf = (name) => classes.get(name) ?? [];
    const layers = new Map(Object.entries(meta.lastLayers).map(([name, l]) => [name, { k: l.k, d: l.d, W: decodeF32(l.W), b: decodeF32(l.b) }]));
    features.layerOf = (name) => layers.get(name) ?? null;
    const outputs: SplitOutputs[] = [];
    for (const [i, plan] of plans.entries()) {
      if (!meta.splits[i].collected) continue;
      if (hooks.signal?.aborted) throw new CancelledError();
      const out = await mergeSplit(shards, plan, i, features);
      if (plan.role === 'fit') await features.finishFit(models);
      else outputs.push(out);
    }
    await features.settled();
    const unreached = plans.filter((p, i) => !meta.splits[i].collected && p.role !== 'fit');
    const data: RunData = { models, splits: outputs, unreached, features };
    return buildReport(data, opts, { started, partial: false, log });
  } finally {
    features.close();
  }
}

/** One split from every shard, in listing order; batches go to the OOD methods as the single run made them. */
async function mergeSplit(shards: Opened[], plan: SplitPlan, splitIndex: number, features: FeatureScoring): Promise<SplitOutputs> {
  const meta = shards[0].meta;
  const total = shards.reduce((a, s) => a + s.meta.splits[splitIndex].rows, 0);
  const models = meta.models.map((m) => ({ m, logits: new Float32Array(total * m.k) }));
  const paths = new PathList();
  const folderClass = new Int32Array(total);
  const skipped = [...plan.skipped];
  let offset = 0; // rows merged so far
  let batch: { chunk: number; start: number } | null = null;
  const pending = new Map<string, Float32Array[]>(); // features of the open batch, per model
  const flush = async () => {
    if (!batch) return;
    const n = offset - batch.start;
    for (const { m, logits } of models) {
      const parts = pending.get(m.plan.name) ?? [];
      const f = m.d ? concat(parts, n * m.d) : null;
      await features.onBatch({ plan: m.plan }, plan, f, logits.subarray(batch.start * m.k, offset * m.k), n, m.d, folderClass.subarray(batch.start, offset), batch.start);
    }
    pending.clear();
    batch = null;
  };
  for (const s of shards) {
    const sm = s.meta.splits[splitIndex];
    skipped.push(...sm.decodeSkipped);
    if (sm.rows === 0) continue;
    const cols = ['split', 'index', 'path', 'folder_class', ...meta.models.flatMap((m) => [`${m.plan.name}:logits`, ...(m.d ? [`${m.plan.name}:features`] : [])])];
    for (const g of rowGroups(s.table)) {
      const rows = await readRows(s.table, cols, g.start, g.end);
      for (let r0 = 0; r0 < rows.length; ) {
        if (rows[r0][0] !== plan.name) {
          r0++;
          continue;
        }
        // Rows of one batch: same split, same chunk of the listing.
        const chunk = Math.floor((rows[r0][1] as number) / meta.batchSize);
        if (batch && batch.chunk !== chunk) await flush();
        batch ??= { chunk, start: offset };
        let r1 = r0;
        while (r1 < rows.length && rows[r1][0] === plan.name && Math.floor((rows[r1][1] as number) / meta.batchSize) === chunk) r1++;
        const part = rows.slice(r0, r1);
        part.forEach((row, i) => {
          paths.push('', row[2] as string);
          folderClass[offset + i] = row[3] === null ? -1 : (row[3] as number);
        });
        let c = 4;
        for (const { m, logits } of models) {
          logits.set(listColumn(s.table, `${m.plan.name}:logits`, part, c++, m.k, g.start + r0), offset * m.k);
          if (m.d) {
            const list = pending.get(m.plan.name) ?? [];
            list.push(listColumn(s.table, `${m.plan.name}:features`, part, c++, m.d, g.start + r0));
            pending.set(m.plan.name, list);
          }
        }
        offset += part.length;
        r0 = r1;
      }
    }
  }
  await flush();
  if (offset !== total) throw new UserError(`Split "${plan.name}": the shard files hold ${offset} rows, their footers say ${total}`);
  return {
    plan, paths, folderClass, skipped, notReached: 0,
    perModel: new Map(models.map(({ m, logits }) => [m.plan.name, { logits, numClasses: m.k }])),
  };
}

function concat(parts: Float32Array[], length: number): Float32Array {
  if (parts.length === 1) return parts[0];
  const out = new Float32Array(length);
  let o = 0;
  for (const p of parts) out.set(p, o), (o += p.length);
  return out;
}
