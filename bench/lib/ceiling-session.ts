// The model-only ceiling's session: onnxruntime's fastest setting for a model alone on this machine, one intra-op
// thread per physical core with idle threads spinning. onnxruntime's own default ran one thread on the 2-core VMs
// (src/engine/inference/cores.ts), which would have made every ceiling half of what the machine can do.
import type { InferenceSession } from 'onnxruntime-node';
import { physicalCores } from '../../src/engine/inference/cores';

export function ceilingSession(model: string, threads = physicalCores()): Promise<InferenceSession> {
  const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');
  return ort.InferenceSession.create(model, { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: threads });
}
