// Writes a copy of an ONNX classifier whose final linear layer carries fine-tuned weights; every other node,
// initializer and output is kept as it was. The new W, b replace the layer's initializers under their names, in
// their element type; a tensor another node also reads (or a Constant node's) is left alone and a fresh
// initializer wired into the layer instead.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';
import { writeFileAtomic } from '../report/write';
import { constantTensors, dimsOf } from '../onnx/tensors';
import { findFinalLinear } from '../onnx/last-layer';
import { floatToHalf } from '../inference/tensor-io';
import { UserError } from '../util/errors';

export const FINETUNE_KEY = 'ood_lens.finetune';
const DT = onnx.TensorProto.DataType;
const PASS_THROUGH = new Set(['Identity', 'Flatten', 'Reshape', 'Squeeze', 'Unsqueeze', 'Cast']);

export interface FinetunedLayer {
  /** Row-major [k, d]. */
  W: Float32Array;
  b: Float32Array;
  k: number;
  d: number;
}

/** The final layer's nodes: a Gemm, or a MatMul with the Add of its bias (null when it has none). */
type Located = { op: 'Gemm'; node: onnx.INodeProto } | { op: 'MatMul'; node: onnx.INodeProto; add: onnx.INodeProto | null };

function locate(graph: onnx.IGraphProto, logits: string): Located | null {
  const producer = new Map<string, onnx.INodeProto>();
  for (const n of graph.node ?? []) for (const o of n.output ?? []) producer.set(o, n);
  const nodeOf = (name: string) => {
    let n = producer.get(name);
    while (n && PASS_THROUGH.has(n.opType ?? '') && n.input?.[0]) n = producer.get(n.input[0]);
    return n;
  };
  const last = nodeOf(logits);
  if (last?.opType === 'Gemm') return { op: 'Gemm', node: last };
  if (last?.opType === 'MatMul') return { op: 'MatMul', node: last, add: null };
  if (last?.opType === 'Add') {
    for (const x of last.input ?? []) {
      const mm = nodeOf(x);
      if (mm?.opType === 'MatMul') return { op: 'MatMul', node: mm, add: last };
    }
  }
  return null;
}

function floatTensor(name: string, dims: number[], values: ArrayLike<number>, dataType: number): onnx.ITensorProto {
  if (dataType === DT.DOUBLE) return { name, dims, dataType, doubleData: Array.from(values) };
  if (dataType === DT.FLOAT16) {
    const raw = new Uint8Array(values.length * 2);
    const view = new DataView(raw.buffer);
    for (let i = 0; i < values.length; i++) view.setUint16(2 * i, floatToHalf(values[i]), true);
    return { name, dims, dataType, rawData: raw };
  }
  if (dataType !== DT.FLOAT) throw new UserError('The final layer\'s weights are not float32, float16 or float64: cannot write fine-tuned ones');
  return { name, dims, dataType, floatData: Array.from(values) };
}

/**
 * The name under which the layer reads its new tensor: `old` itself when it is an initializer no other node reads
 * (it is replaced), else a fresh name. The tensor is added to the graph's initializers.
 */
function place(graph: onnx.IGraphProto, old: string | undefined, t: Omit<onnx.ITensorProto, 'name'>, fresh: (base: string) => string, base: string): string {
  const inits = graph.initializer ?? (graph.initializer = []);
  const readers = old === undefined ? 0 : (graph.node ?? []).reduce((a, n) => a + (n.input ?? []).filter((x) => x === old).length, 0);
  const own = old !== undefined && readers === 1 && !graph.output?.some((o) => o.name === old) && inits.some((i) => i.name === old);
  const name = own ? old : fresh(base);
  if (own) graph.initializer = inits.filter((i) => i.name !== old);
  graph.initializer!.push({ ...t, name });
  return name;
}

/** Rewires the final layer of `model` (decoded) to W, b; `fresh` makes unused tensor names. */
function rewire(graph: onnx.IGraphProto, at: Located, layer: FinetunedLayer, fresh: (base: string) => string): void {
  const { W, b, k, d } = layer;
  const consts = constantTensors(graph);
  const type = consts.get(at.node.input?.[1] ?? '')!.dataType ?? DT.FLOAT;
  const put = (old: string | undefined, dims: number[], values: ArrayLike<number>, base: string) => place(graph, old, floatTensor('', dims, values, type), fresh, base);
  const Wt = new Float32Array(k * d); // [d, k]
  for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) Wt[j * k + c] = W[c * d + j];
  const [h, wOld, bOld] = at.node.input ?? [];
  if (at.op === 'Gemm') {
    const transB = Number(at.node.attribute?.find((a) => a.name === 'transB')?.i ?? 0) !== 0;
    const wName = put(wOld, transB ? [k, d] : [d, k], transB ? W : Wt, 'ood_lens_finetuned_W');
    const bName = put(bOld, [k], b, 'ood_lens_finetuned_b');
    // alpha and beta are folded into the new tensors.
    at.node.attribute = (at.node.attribute ?? []).filter((a) => a.name !== 'alpha' && a.name !== 'beta');
    at.node.input = [h, wName, bName];
    return;
  }
  at.node.input = [h, put(wOld, [d, k], Wt, 'ood_lens_finetuned_W')];
  if (at.add) {
    const i = (at.add.input ?? []).findIndex((x) => consts.has(x));
    const old = at.add.input![i];
    at.add.input![i] = put(old, dimsOf(consts.get(old)!), b, 'ood_lens_finetuned_b');
    return;
  }
  // A MatMul without bias gets an Add after it, which takes over its output's name (so its readers get W·h + b).
  const out = at.node.output![0];
  const raw = fresh(`${out}_no_bias`);
  at.node.output = [raw];
  graph.node!.push({ opType: 'Add', name: fresh('ood_lens_finetuned_bias'), input: [raw, put(undefined, [k], b, 'ood_lens_finetuned_b')], output: [out] });
}

/**
 * Writes `outputPath` (atomically: a temp file beside it, then rename). `metadata` is recorded as JSON under
 * ood_lens.finetune. Refuses a model whose logits do not come from a Gemm or MatMul (+ Add) of constant weights.
 */
export async function exportFinetunedModel(inputPath: string, outputPath: string, logitsOutput: string, layer: FinetunedLayer, metadata: Record<string, unknown>): Promise<void> {
  const model = onnx.ModelProto.decode(await fs.promises.readFile(inputPath));
  const graph = model.graph;
  const found = graph && findFinalLinear(graph, logitsOutput, path.dirname(inputPath));
  const at = graph && locate(graph, logitsOutput);
  if (!graph || !found?.layer || !at || found.layer.k !== layer.k || found.layer.d !== layer.d) {
    throw new UserError(`${path.basename(inputPath)}: "${logitsOutput}" does not come from a final linear layer of ${layer.k}×${layer.d} constant weights`);
  }
  const external = graph.initializer?.some((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL);
  if (external && path.resolve(path.dirname(inputPath)) !== path.resolve(path.dirname(outputPath))) {
    throw new UserError('The model keeps weights in external data files: write the fine-tuned model next to it');
  }
  const taken = new Set<string>();
  for (const n of graph.node ?? []) for (const x of [...(n.input ?? []), ...(n.output ?? []), n.name ?? '']) taken.add(x);
  for (const t of graph.initializer ?? []) if (t.name) taken.add(t.name);
  for (const v of graph.input ?? []) if (v.name) taken.add(v.name);
  const fresh = (base: string) => {
    let name = base;
    for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
    taken.add(name);
    return name;
  };
  rewire(graph, at, layer, fresh);
  model.metadataProps = [...(model.metadataProps ?? []).filter((p) => p.key !== FINETUNE_KEY), { key: FINETUNE_KEY, value: JSON.stringify(metadata) }];

  await writeFileAtomic(outputPath, onnx.ModelProto.encode(model).finish());
}
