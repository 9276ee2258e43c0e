// Decides which tensors of a user's graph are read: the logits (before a final Softmax when there is one) and the
// features (a named output, a tensor the user picks, or the input of the final linear layer). Tensors inside the
// graph are added as extra outputs of the in-memory copy the session is made from; the file is never modified.
import type { onnx } from 'onnx-proto';
import { findFinalLinear } from '../onnx/last-layer';
import { UserError } from '../util/errors';

export interface GraphPlan {
  logits: string;
  /** Set when the logits are the input of the Softmax that produces `output`. */
  preSoftmaxOf?: string;
  features?: { tensor: string; source: 'output' | 'final-linear' | 'features-node' };
  finalLinear: { node: string; op: 'Gemm' | 'MatMul' } | null;
  /** Tensors computed inside the graph that the session must also output. */
  addedOutputs: string[];
  warnings: string[];
}

function producers(graph: onnx.IGraphProto): Map<string, onnx.INodeProto> {
  const out = new Map<string, onnx.INodeProto>();
  for (const node of graph.node ?? []) for (const o of node.output ?? []) out.set(o, node);
  return out;
}

/** The input of a last-axis Softmax that produces `output` (through Identity nodes), if any. */
function preSoftmax(output: string, producer: Map<string, onnx.INodeProto>): string | undefined {
  let node = producer.get(output);
  while (node?.opType === 'Identity' && node.input?.[0]) node = producer.get(node.input[0]);
  if (node?.opType !== 'Softmax' || !node.input?.[0]) return undefined;
  const axis = Number(node.attribute?.find((a) => a.name === 'axis')?.i ?? -1);
  return axis === -1 || axis === 1 ? node.input[0] : undefined;
}

export function planGraph(graph: onnx.IGraphProto, base: string, logitsOutput: string, featuresHint: string | undefined, modelDir: string): GraphPlan {
  const producer = producers(graph);
  const outputs = new Set((graph.output ?? []).map((o) => o.name ?? ''));
  const warnings: string[] = [];
  const pre = preSoftmax(logitsOutput, producer);
  const logits = pre ?? logitsOutput;
  const linear = findFinalLinear(graph, logits, modelDir);
  let features: GraphPlan['features'];
  if (featuresHint) {
    if (!outputs.has(featuresHint) && !producer.has(featuresHint)) {
      throw new UserError(`Model ${base} has no tensor named "${featuresHint}" (--features-node names an output or a node's output tensor)`);
    }
    features = { tensor: featuresHint, source: 'features-node' };
  } else if (outputs.has('features')) {
    features = { tensor: 'features', source: 'output' };
  } else if (linear) {
    features = { tensor: linear.input, source: 'final-linear' };
  } else {
    warnings.push(`${base}: no final linear layer found before "${logits}", so feature-based scores are off; name the feature tensor with --features-node NAME`);
  }
  if (linear && !linear.layer) warnings.push(`${base}: the final layer's weights (${linear.node}) are not constant float tensors; ViM is off`);
  const addedOutputs = [logits, features?.tensor].filter((t): t is string => !!t && !outputs.has(t));
  return {
    logits,
    ...(pre ? { preSoftmaxOf: logitsOutput } : {}),
    features,
    finalLinear: linear ? { node: linear.node, op: linear.op } : null,
    addedOutputs: [...new Set(addedOutputs)],
    warnings,
  };
}
