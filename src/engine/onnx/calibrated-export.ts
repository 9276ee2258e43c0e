// Writes a temperature-scaled copy of an ONNX classifier: the logits output becomes logits / T.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';

export interface CalibratedExportOptions {
  temperature: number;
  /** Graph output holding the logits; it keeps its name in the new model. */
  logitsOutput: string;
  /** Recorded in metadata_props as ood_lens.calibration_set. */
  calibrationSet: string;
}

export const TEMPERATURE_KEY = 'ood_lens.temperature';
export const CALIBRATION_SET_KEY = 'ood_lens.calibration_set';

/**
 * The tensor `logitsOutput` is renamed (e.g. logits → logits_uncalibrated) everywhere it appears, and a
 * Div(logits_uncalibrated, T) node appended that produces `logitsOutput`; so the graph output keeps its name and
 * every other output (features, a Softmax branch…) still sees the original logits. T is a float32 scalar
 * initializer (the output is exactly float32(z / float32(T))). Metadata records T (full precision) and the
 * calibration set. Written atomically: a temp file in the output directory, then rename.
 */
export async function exportCalibratedModel(inputPath: string, outputPath: string, opts: CalibratedExportOptions): Promise<void> {
  const { temperature: T, logitsOutput } = opts;
  if (!(T > 0 && Number.isFinite(T))) throw new Error(`temperature must be a positive finite number, got ${T}`);
  const model = onnx.ModelProto.decode(await fs.promises.readFile(inputPath));
  const graph = model.graph;
  if (!graph || !graph.output?.some((o) => o.name === logitsOutput)) {
    throw new Error(`"${logitsOutput}" is not an output of ${inputPath}`);
  }
  if (graph.input?.some((v) => v.name === logitsOutput) || graph.initializer?.some((t) => t.name === logitsOutput)) {
    throw new Error(`"${logitsOutput}" is a graph input or initializer, not computed by the model`);
  }
  const external = graph.initializer?.some((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL);
  if (external && path.resolve(path.dirname(inputPath)) !== path.resolve(path.dirname(outputPath))) {
    throw new Error('the model keeps weights in external data files: write the calibrated model next to it');
  }

  const taken = new Set<string>();
  for (const n of graph.node ?? []) for (const x of [...(n.input ?? []), ...(n.output ?? [])]) taken.add(x);
  for (const t of graph.initializer ?? []) if (t.name) taken.add(t.name);
  for (const v of graph.input ?? []) if (v.name) taken.add(v.name);
  const fresh = (base: string) => {
    let name = base;
    for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
    taken.add(name);
    return name;
  };
  const raw = fresh(`${logitsOutput}_uncalibrated`);
  const tName = fresh('ood_lens_temperature');

  for (const n of graph.node ?? []) {
    n.input = (n.input ?? []).map((x) => (x === logitsOutput ? raw : x));
    n.output = (n.output ?? []).map((x) => (x === logitsOutput ? raw : x));
  }
  for (const v of graph.valueInfo ?? []) if (v.name === logitsOutput) v.name = raw;
  graph.initializer = [
    ...(graph.initializer ?? []),
    { name: tName, dims: [], dataType: onnx.TensorProto.DataType.FLOAT, floatData: [T] },
  ];
  graph.node = [
    ...(graph.node ?? []),
    { opType: 'Div', name: fresh('ood_lens_temperature_scaling'), input: [raw, tName], output: [logitsOutput] },
  ];

  const meta = (model.metadataProps ?? []).filter((p) => p.key !== TEMPERATURE_KEY && p.key !== CALIBRATION_SET_KEY);
  meta.push({ key: TEMPERATURE_KEY, value: String(T) }, { key: CALIBRATION_SET_KEY, value: opts.calibrationSet });
  model.metadataProps = meta;

  const bytes = onnx.ModelProto.encode(model).finish();
  const tmp = path.join(path.dirname(outputPath), `.${path.basename(outputPath)}.${process.pid}.${Date.now()}.tmp`);
  try {
    await fs.promises.writeFile(tmp, bytes);
    await fs.promises.rename(tmp, outputPath);
  } catch (e) {
    await fs.promises.rm(tmp, { force: true });
    throw e;
  }
}
