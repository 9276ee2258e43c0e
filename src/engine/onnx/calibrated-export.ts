// Writes a calibrated copy of an ONNX classifier: the logits output becomes the calibrator's logits (logits / T by
// default), optionally with LAC prediction sets as an extra boolean output.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';
import { writeFileAtomic } from '../report/write';
import type { CalibratorParameters } from '../report/types';
import { calibrationNodes, GraphBuilder, predictionSetNodes, PREDICTION_SET_SLACK } from './calibration-graph';

export interface CalibratedExportOptions {
  /** Temperature scaling's T; ignored when `calibrator` is given. */
  temperature?: number;
  /** The calibrator to fold in, from the report's `calibrators[].parameters`. */
  calibrator?: CalibratorParameters;
  /** Graph output holding the logits; it keeps its name in the new model. */
  logitsOutput: string;
  /** Recorded in metadata_props as ood_lens.calibration_set. */
  calibrationSet: string;
  /** LAC sets at level α with threshold q̂ (finite), as the output `prediction_set` [N, K]. */
  predictionSet?: { alpha: number; qhat: number };
}

export const TEMPERATURE_KEY = 'ood_lens.temperature';
export const CALIBRATION_SET_KEY = 'ood_lens.calibration_set';
export const CALIBRATOR_KEY = 'ood_lens.calibrator';
export const CONFORMAL_KEYS = { method: 'ood_lens.conformal_method', alpha: 'ood_lens.conformal_alpha', qhat: 'ood_lens.conformal_qhat', rule: 'ood_lens.prediction_set' } as const;
export const PREDICTION_SET_OUTPUT = 'prediction_set';
export const CONFIDENCE_OUTPUT = 'calibrated_confidence';

/** The report's method name of each parameter kind (metadata `ood_lens.calibrator`). */
export const METHOD_OF_KIND: Record<CalibratorParameters['kind'], string> = {
  temperature: 'temperature_scaling', vector: 'vector_scaling', matrix: 'matrix_scaling', dirichlet: 'dirichlet_odir',
  ensemble_temperature: 'ensemble_temperature', histogram: 'histogram_binning', isotonic: 'isotonic',
};

const OWN_KEYS = new Set<string>([TEMPERATURE_KEY, CALIBRATION_SET_KEY, CALIBRATOR_KEY, ...Object.values(CONFORMAL_KEYS)]);

function calibratorOf(opts: CalibratedExportOptions): CalibratorParameters {
  const p = opts.calibrator ?? { kind: 'temperature', temperature: opts.temperature ?? NaN };
  if (p.kind === 'temperature' && !(p.temperature > 0 && Number.isFinite(p.temperature))) throw new Error(`temperature must be a positive finite number, got ${p.temperature}`);
  return p;
}

/** Checks what the float64 calibration nodes need: opset ≥ 11, float32 [N, K] logits, free output names. */
function checkGraph(model: onnx.IModelProto, logits: onnx.IValueInfoProto, newOutputs: string[], kind: string): void {
  const graph = model.graph!;
  const opset = Number(model.opsetImport?.find((o) => !o.domain)?.version ?? 0);
  if (opset < 11) throw new Error(`exporting ${kind} needs a model of opset 11 or later (this one imports opset ${opset})`);
  const type = logits.type?.tensorType;
  if (type?.elemType && type.elemType !== onnx.TensorProto.DataType.FLOAT) throw new Error(`exporting ${kind} needs float32 logits ("${logits.name}" is type ${type.elemType})`);
  for (const name of newOutputs) {
    if (graph.output?.some((o) => o.name === name) || graph.node?.some((n) => n.output?.includes(name))) {
      throw new Error(`the model already has a tensor named "${name}" (calibrated before?): export from the original model`);
    }
  }
}

/**
 * The tensor `logitsOutput` is renamed (e.g. logits → logits_uncalibrated) everywhere it appears, and the calibration
 * nodes produce `logitsOutput` from it; so the graph output keeps its name and every other output (features, a
 * Softmax branch…) still sees the original logits. Temperature: Div by a float32 scalar T (the output is exactly
 * float32(z / float32(T))). Other calibrators: calibration-graph.ts. Metadata records the calibrator (T in full
 * precision), the calibration set and, with prediction sets, α and q̂. Written atomically (temp file, then rename).
 */
export async function exportCalibratedModel(inputPath: string, outputPath: string, opts: CalibratedExportOptions): Promise<void> {
  const p = calibratorOf(opts);
  const { logitsOutput } = opts;
  const model = onnx.ModelProto.decode(await fs.promises.readFile(inputPath));
  const graph = model.graph;
  const logitsInfo = graph?.output?.find((o) => o.name === logitsOutput);
  if (!graph || !logitsInfo) throw new Error(`"${logitsOutput}" is not an output of ${inputPath}`);
  if (graph.input?.some((v) => v.name === logitsOutput) || graph.initializer?.some((t) => t.name === logitsOutput)) {
    throw new Error(`"${logitsOutput}" is a graph input or initializer, not computed by the model`);
  }
  const external = graph.initializer?.some((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL);
  if (external && path.resolve(path.dirname(inputPath)) !== path.resolve(path.dirname(outputPath))) {
    throw new Error('the model keeps weights in external data files: write the calibrated model next to it');
  }
  const topLabel = p.kind === 'histogram' || p.kind === 'isotonic';
  if (opts.predictionSet && topLabel) throw new Error(`${METHOD_OF_KIND[p.kind]} calibrates only the top label: LAC prediction sets need every class's probability`);
  if (opts.predictionSet && !Number.isFinite(opts.predictionSet.qhat)) throw new Error(`q̂ must be finite to fold prediction sets into the model, got ${opts.predictionSet.qhat}`);
  const added = [...(topLabel ? [CONFIDENCE_OUTPUT] : []), ...(opts.predictionSet ? [PREDICTION_SET_OUTPUT] : [])];
  if (p.kind !== 'temperature' || opts.predictionSet) checkGraph(model, logitsInfo, added, METHOD_OF_KIND[p.kind]);

  const taken = new Set<string>();
  for (const n of graph.node ?? []) for (const x of [...(n.input ?? []), ...(n.output ?? []), n.name ?? '']) taken.add(x);
  for (const t of graph.initializer ?? []) if (t.name) taken.add(t.name);
  for (const v of graph.input ?? []) if (v.name) taken.add(v.name);
  for (const name of added) taken.add(name);
  const fresh = (base: string) => {
    let name = base;
    for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
    taken.add(name);
    return name;
  };
  const raw = fresh(`${logitsOutput}_uncalibrated`);
  for (const n of graph.node ?? []) {
    n.input = (n.input ?? []).map((x) => (x === logitsOutput ? raw : x));
    n.output = (n.output ?? []).map((x) => (x === logitsOutput ? raw : x));
  }
  for (const v of graph.valueInfo ?? []) if (v.name === logitsOutput) v.name = raw;

  const g = new GraphBuilder(fresh);
  calibrationNodes(g, p, raw, logitsOutput, CONFIDENCE_OUTPUT);
  if (opts.predictionSet) predictionSetNodes(g, logitsOutput, opts.predictionSet.qhat, PREDICTION_SET_OUTPUT);
  graph.initializer = [...(graph.initializer ?? []), ...g.initializers];
  graph.node = [...(graph.node ?? []), ...g.nodes];
  const batch = logitsInfo.type?.tensorType?.shape?.dim?.[0] ?? { dimParam: 'N' };
  const out = (name: string, elemType: number, dims: onnx.TensorShapeProto.IDimension[]) => ({ name, type: { tensorType: { elemType, shape: { dim: dims } } } });
  if (topLabel) graph.output = [...(graph.output ?? []), out(CONFIDENCE_OUTPUT, onnx.TensorProto.DataType.FLOAT, [batch])];
  if (opts.predictionSet) graph.output = [...(graph.output ?? []), out(PREDICTION_SET_OUTPUT, onnx.TensorProto.DataType.BOOL, logitsInfo.type?.tensorType?.shape?.dim ?? [batch, { dimParam: 'K' }])];

  model.metadataProps = [...(model.metadataProps ?? []).filter((m) => !OWN_KEYS.has(m.key ?? '')), ...metadata(p, opts)];
  await writeFileAtomic(outputPath, onnx.ModelProto.encode(model).finish());
}

function metadata(p: CalibratorParameters, opts: CalibratedExportOptions): onnx.IStringStringEntryProto[] {
  const meta: onnx.IStringStringEntryProto[] = [];
  if (p.kind !== 'temperature') meta.push({ key: CALIBRATOR_KEY, value: METHOD_OF_KIND[p.kind] });
  if (p.kind === 'temperature' || p.kind === 'ensemble_temperature') meta.push({ key: TEMPERATURE_KEY, value: String(p.temperature) });
  meta.push({ key: CALIBRATION_SET_KEY, value: opts.calibrationSet });
  if (opts.predictionSet) {
    meta.push(
      { key: CONFORMAL_KEYS.method, value: 'lac' },
      { key: CONFORMAL_KEYS.alpha, value: String(opts.predictionSet.alpha) },
      { key: CONFORMAL_KEYS.qhat, value: String(opts.predictionSet.qhat) },
      { key: CONFORMAL_KEYS.rule, value: `class c is in the set when 1 − softmax(${opts.logitsOutput})_c ≤ qhat + ${PREDICTION_SET_SLACK} (float64)` },
    );
  }
  return meta;
}

