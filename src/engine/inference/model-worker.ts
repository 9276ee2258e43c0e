import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { LoadedReply, WorkerReply } from './messages';

/** Finds the bundled worker script: next to the calling bundle (dist/) or one level up (dist/test, dist/bench). */
function workerScript(): string {
  for (const dir of [__dirname, path.join(__dirname, '..'), path.join(__dirname, '..', '..')]) {
    const p = path.join(dir, 'worker.js');
    if (fs.existsSync(p)) return p;
  }
  throw new Error(`inference worker bundle (worker.js) not found near ${__dirname}; run the build first`);
}

type Outputs = Record<string, { data: Float32Array; dims: number[] }>;

/** One model loaded in its own worker thread; `run` calls are answered in order. */
export class ModelWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve(o: Outputs): void; reject(e: Error): void }>();
  private nextId = 0;
  private loaded?: { resolve(r: LoadedReply): void; reject(e: Error): void };
  private closed = false;

  constructor() {
    this.worker = new Worker(workerScript());
    this.worker.on('message', (msg: WorkerReply) => this.onMessage(msg));
    this.worker.on('error', (e) => this.failAll(e));
    this.worker.on('exit', () => this.failAll(new Error('inference worker stopped')));
  }

  load(modelPath: string, providers: string[], outputs: string[], intraOpThreads?: number): Promise<LoadedReply> {
    return new Promise((resolve, reject) => {
      this.loaded = { resolve, reject };
      this.worker.postMessage({ type: 'load', modelPath, providers, outputs, intraOpThreads });
    });
  }

  /** Sends a batch; its buffer is transferred (the caller must not reuse it). */
  run(inputName: string, data: Float32Array, dims: number[]): Promise<Outputs> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'run', id, inputName, data, dims }, [data.buffer as ArrayBuffer]);
    });
  }

  /**
   * Ends the thread without making the caller wait for a run in progress (cancellation must not wait for a slow
   * batch). The thread itself ends once its load and runs have answered: terminating it while onnxruntime is
   * inside session.run aborts the whole process.
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
      this.pending.get(msg.id)?.resolve(msg.outputs);
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
