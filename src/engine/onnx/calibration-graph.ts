// The ONNX nodes that apply a fitted calibrator to a model's raw logits, mirroring calibration/apply.ts op for op:
// everything but temperature runs in float64 (Cast in, Cast to float32 once at the end), so the exported logits
// equal the engine's up to the last bits of exp/log/matmul. Only opset-stable forms are used (opset ≥ 11): Softmax /
// LogSoftmax on a 2-D [N, K] tensor, counts as MatMul with a ones vector instead of ReduceSum, ArgMax +
// GatherElements instead of ReduceMax.
import { onnx } from 'onnx-proto';
import type { CalibratorParameters } from '../report/types';

const DT = onnx.TensorProto.DataType;
const INT = onnx.AttributeProto.AttributeType.INT;

/** Tolerance of the prediction set's comparison: ORT's float64 softmax may differ from the engine's in the last bits. */
export const PREDICTION_SET_SLACK = 1e-12;

export interface GraphPiece {
  nodes: onnx.INodeProto[];
  initializers: onnx.ITensorProto[];
}

/** Appends nodes with fresh tensor names; `fresh(base)` must return a name unused in the model. */
export class GraphBuilder implements GraphPiece {
  nodes: onnx.INodeProto[] = [];
  initializers: onnx.ITensorProto[] = [];
  constructor(private readonly fresh: (base: string) => string) {}

  op(opType: string, input: string[], attrs: Record<string, number> = {}, output?: string): string {
    const out = output ?? this.fresh(`ood_lens_${opType.toLowerCase()}`);
    const attribute = Object.entries(attrs).map(([name, i]) => ({ name, type: INT, i }));
    this.nodes.push({ opType, name: this.fresh(`ood_lens_${opType}`), input, output: [out], attribute });
    return out;
  }

  double(values: number[], dims: number[]): string {
    return this.constant({ dims, dataType: DT.DOUBLE, doubleData: values });
  }

  float(values: number[], dims: number[], base?: string): string {
    return this.constant({ dims, dataType: DT.FLOAT, floatData: values }, base);
  }

  int64(values: number[], dims: number[]): string {
    return this.constant({ dims, dataType: DT.INT64, int64Data: values });
  }

  private constant(t: onnx.ITensorProto, base = 'ood_lens_const'): string {
    const name = this.fresh(base);
    this.initializers.push({ ...t, name });
    return name;
  }

  toDouble(x: string): string {
    return this.op('Cast', [x], { to: DT.DOUBLE });
  }
}

const transpose = (A: number[][]): number[] => A[0].map((_, j) => A.map((row) => row[j])).flat();

/** x [N, K] float64 → A x + c per row, as MatMul(x, Aᵀ) + c. */
function affine(g: GraphBuilder, x: string, A: number[][], c: number[]): string {
  const k = c.length;
  return g.op('Add', [g.op('MatMul', [x, g.double(transpose(A), [k, k])]), g.double(c, [k])]);
}

/** Calibrated float64 logits of a full-distribution calibrator from float64 logits x. */
function fullMap(g: GraphBuilder, p: Exclude<CalibratorParameters, { kind: 'temperature' | 'histogram' | 'isotonic' }>, x: string): string {
  switch (p.kind) {
    case 'vector':
      return g.op('Add', [g.op('Mul', [x, g.double(p.a, [p.a.length])]), g.double(p.c, [p.c.length])]);
    case 'matrix':
      return affine(g, x, p.A, p.c);
    case 'dirichlet':
      return affine(g, g.op('LogSoftmax', [x], { axis: 1 }), p.W, p.b);
    case 'ensemble_temperature': {
      const [w0, w1, w2] = p.weights;
      const pT = g.op('Softmax', [g.op('Div', [x, g.double([p.temperature], [])])], { axis: 1 });
      const p1 = g.op('Softmax', [x], { axis: 1 });
      const mix = g.op('Add', [g.op('Mul', [pT, g.double([w0], [])]), g.op('Mul', [p1, g.double([w1], [])])]);
      return g.op('Log', [g.op('Add', [mix, g.double([w2 / p.classes], [])])]);
    }
  }
}

/** Σ over a [1, M] row of thresholds of the bool [N, M] comparison, as float64 [N, 1] (MatMul with ones). */
function countTrue(g: GraphBuilder, bools: string, m: number): string {
  return g.op('MatMul', [g.toDouble(bools), g.double(new Array(m).fill(1), [m, 1])]);
}

/** g(c) [N, 1] float64 of a top-label map, c = max softmax of float64 logits x (first argmax, as apply.ts). */
function topLabelMap(g: GraphBuilder, p: Extract<CalibratorParameters, { kind: 'histogram' | 'isotonic' }>, x: string): string {
  const probs = g.op('Softmax', [x], { axis: 1 });
  const c = g.op('GatherElements', [probs, g.op('ArgMax', [probs], { axis: 1, keepdims: 1 })], { axis: 1 });
  const index = (count: string) => g.op('Cast', [count], { to: DT.INT64 });
  if (p.kind === 'histogram') {
    // Bin = number of upper edges below c among all but the last (a lone bin compares with +∞: always bin 0).
    const inner = p.edges.length > 1 ? p.edges.slice(0, -1) : [Infinity];
    const bin = index(countTrue(g, g.op('Greater', [c, g.double(inner, [1, inner.length])]), inner.length));
    return g.op('Gather', [g.double(p.values, [p.values.length]), bin], { axis: 0 });
  }
  const M = p.x.length;
  const cc = g.op('Clip', [c, g.double([p.x[0]], []), g.double([p.x[M - 1]], [])]);
  // Segment s = #{i ≥ 1 : x_i ≤ cc}, at most M − 2; g = slope_s (cc − x_s) + y_s (numpy.interp's form).
  const upper = M > 1 ? p.x.slice(1) : [Infinity];
  const atOrBelow = g.op('Not', [g.op('Less', [cc, g.double(upper, [1, upper.length])])]);
  const s = index(g.op('Min', [countTrue(g, atOrBelow, upper.length), g.double([Math.max(M - 2, 0)], [])]));
  const S = Math.max(M - 1, 1);
  const slopes = M > 1 ? Array.from({ length: S }, (_, j) => (p.y[j + 1] - p.y[j]) / (p.x[j + 1] - p.x[j])) : [0];
  const at = (values: number[]) => g.op('Gather', [g.double(values.slice(0, S), [S]), s], { axis: 0 });
  return g.op('Add', [g.op('Mul', [at(slopes), g.op('Sub', [cc, at(p.x)])]), at(p.y)]);
}

/**
 * Nodes computing `logits` from `raw`: temperature as Div(raw, float32 T) (the export's historical form), full maps in
 * float64, top-label maps as Identity plus `confidence` = g(c) [N] float32.
 */
export function calibrationNodes(g: GraphBuilder, p: CalibratorParameters, raw: string, logits: string, confidence: string): void {
  if (p.kind === 'temperature') {
    g.op('Div', [raw, g.float([p.temperature], [], 'ood_lens_temperature')], {}, logits);
    return;
  }
  const x = g.toDouble(raw);
  if (p.kind === 'histogram' || p.kind === 'isotonic') {
    g.op('Identity', [raw], {}, logits);
    const flat = g.op('Reshape', [topLabelMap(g, p, x), g.int64([-1], [1])]);
    g.op('Cast', [flat], { to: DT.FLOAT }, confidence);
    return;
  }
  g.op('Cast', [fullMap(g, p, x)], { to: DT.FLOAT }, logits);
}

/** prediction_set [N, K] bool from the calibrated float32 logits: 1 − softmax ≤ q̂ (+ slack), in float64. */
export function predictionSetNodes(g: GraphBuilder, logits: string, qhat: number, output: string): void {
  const probs = g.op('Softmax', [g.toDouble(logits)], { axis: 1 });
  const score = g.op('Sub', [g.double([1], []), probs]);
  g.op('Not', [g.op('Greater', [score, g.double([qhat + PREDICTION_SET_SLACK], [])])], {}, output);
}
