import type { Worker } from 'node:worker_threads';
import type { LoadedReply, LoadRequest, WorkerReply } from './messages';
import { startBundledWorker } from '../util/bundled-script';
import { trackThreads } from './live-threads';

/** Enough for a few batches in flight of a model with several outputs. */
const MAX_SPARE_OUTPUTS = 16;

type Outputs = Record<string, { data: Float32Array; dims: number[] }>;
export interface RunResult {
  outputs: Outputs;
  /** The batch sent, handed back for reuse. */
  input: Float32Array;
  /** First batch on an accelerator: the largest |logit difference| from CPU. */
  cpuDiff?: number;
}

/** One model loaded in its own worker thread; `run` calls are answered in order. */
export class ModelWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve(r: RunResult): void; reject(e: Error): void }>();
  private nextId = 0;
  private loaded?: { resolve(r: LoadedReply): void; reject(e: Error): void };
  private closed = false;
  /** Output buffers given back by the caller, sent with the next run to be filled again. */
  private spareOutputs: ArrayBuffer[] = [];

  constructor() {
    this.worker = startBundledWorker('worker.js');
    this.worker.on('message', (msg: WorkerReply) => this.onMessage(msg));
    this.worker.on('error', (e) => this.failAll(e));
    this.worker.on('exit', () => this.failAll(new Error('inference worker stopped')));
    trackThreads(new Promise<void>((resolve) => this.worker.once('exit', () => resolve())));
  }

  load(request: Omit<LoadRequest, 'type'>): Promise<LoadedReply> {
    return new Promise((resolve, reject) => {
      this.loaded = { resolve, reject };
      const bytes = typeof request.model === 'string' ? [] : [request.model.buffer as ArrayBuffer];
      this.worker.postMessage({ type: 'load', ...request } satisfies LoadRequest, bytes);
    });
  }

  /** Sends a batch; its buffer is transferred, and comes back with the result. */
  run(inputName: string, data: Float32Array, dims: number[]): Promise<RunResult> {
    const id = this.nextId++;
    const reuse = this.spareOutputs.splice(0);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'run', id, inputName, data, dims, reuse }, [data.buffer as ArrayBuffer, ...reuse]);
    });
  }

  /** Hands a result's outputs back once the caller has copied what it needs from them, to be filled again. */
  recycle(outputs: Outputs): void {
    for (const o of Object.values(outputs)) if (this.spareOutputs.length < MAX_SPARE_OUTPUTS) this.spareOutputs.push(o.data.buffer as ArrayBuffer);
  }

  /**
   * Ends the thread without making the caller wait for a load or run in progress (cancellation must not wait for a
   * slow batch). The thread itself ends once its load and runs have answered: terminating it while onnxruntime is
   * creating a session or inside session.run aborts the whole process. Before exiting, a process waits for
   * inferenceThreadsStopped().
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.terminateWhenIdle();
  }

  private terminateWhenIdle(): void {
    if (this.closed && this.pending.size === 0 && !this.loaded) void this.worker.terminate();
  }

  private onMessage(msg: WorkerReply): void {
    if (msg.type === 'loaded') {
      this.loaded?.resolve(msg);
      this.loaded = undefined;
    } else if (msg.type === 'result') {
      this.pending.get(msg.id)?.resolve({ outputs: msg.outputs, input: msg.input, cpuDiff: msg.cpuDiff });
      this.pending.delete(msg.id);
    } else if (msg.id === -1) {
      this.loaded?.reject(new Error(msg.message));
      this.loaded = undefined;
    } else {
      this.pending.get(msg.id)?.reject(new Error(msg.message));
      this.pending.delete(msg.id);
    }
    this.terminateWhenIdle();
  }

  private failAll(e: Error): void {
    this.loaded?.reject(e);
    this.loaded = undefined;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}
