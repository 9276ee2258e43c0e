// Which onnxruntime execution providers a run asks for. `auto` expands to the accelerators this platform's
// onnxruntime-node build can load, then CPU; every list ends with CPU, the provider that always loads.
import * as fs from 'node:fs';
import * as path from 'node:path';

export const PROVIDER_NAMES = ['auto', 'cpu', 'cuda', 'tensorrt', 'coreml', 'dml', 'webgpu'] as const;

export interface Platform {
  platform: NodeJS.Platform;
  /** Whether the CUDA provider library sits beside onnxruntime's (installed with ONNXRUNTIME_NODE_INSTALL=cuda12). */
  hasCuda: boolean;
}

/**
 * `auto`: DirectML on Windows and CoreML on macOS (both ship in the npm package), CUDA on Linux when its provider
 * library is installed. TensorRT (it builds engines for minutes at load) and WebGPU (experimental; without a GPU
 * adapter it costs ≈ 0.3 s and writes Dawn's messages to stderr, measured here) are used only when named.
 */
export function autoProviders(p: Platform): string[] {
  if (p.platform === 'win32') return ['dml'];
  if (p.platform === 'darwin') return ['coreml'];
  return p.hasCuda ? ['cuda'] : [];
}

/** The preference list with `auto` expanded, duplicates dropped and CPU last. */
export function resolveProviders(wanted: readonly string[], p: Platform = currentPlatform()): string[] {
  const out: string[] = [];
  for (const name of wanted.flatMap((w) => (w === 'auto' ? autoProviders(p) : [w]))) if (name !== 'cpu' && !out.includes(name)) out.push(name);
  return [...out, 'cpu'];
}

function currentPlatform(): Platform {
  let hasCuda = false;
  try {
    const binding = path.dirname(require.resolve('onnxruntime-node/package.json'));
    const dir = path.join(binding, 'bin', 'napi-v6', process.platform, process.arch);
    hasCuda = fs.readdirSync(dir).some((f) => f.startsWith('libonnxruntime_providers_cuda'));
  } catch {
    // No binding folder to look in: CUDA is then not installed either.
  }
  return { platform: process.platform, hasCuda };
}
