import type { Worker } from 'node:worker_threads';
import { startBundledWorker } from '../util/bundled-script';
import { trackThreads } from '../inference/live-threads';
import type { DecodeJob, DecodeReply, DecodeResult } from './decode-messages';
import { sharpForThreads } from './decode';

interface Thread {
  worker: Worker;
  pending: Map<number, { resolve(r: DecodeResult): void; reject(e: Error): void }>;
}

/** Decoding worker threads; each job goes to the thread with the fewest jobs waiting. */
export class DecodePool {
  private readonly threads: Thread[] = [];
  private nextId = 0;
  /** Set by close(): each thread stops after the image it is on (see close). */
  private readonly stop = new Int32Array(new SharedArrayBuffer(4));

  constructor(readonly size: number) {
    for (let i = 0; i < size; i++) {
      const t: Thread = { worker: startBundledWorker('decode-worker.js', { stop: this.stop }), pending: new Map() };
      trackThreads(new Promise<void>((resolve) => t.worker.once('exit', () => resolve())));
      t.worker.on('message', (msg: DecodeReply) => {
        const id = msg.type === 'result' ? msg.result.id : msg.id;
        const p = t.pending.get(id);
        t.pending.delete(id);
        if (msg.type === 'result') p?.resolve(msg.result);
        else p?.reject(new Error(`decoding worker: ${msg.message}`));
      });
      const fail = (e: Error) => {
        for (const p of t.pending.values()) p.reject(e);
        t.pending.clear();
      };
      t.worker.on('error', fail);
      t.worker.on('exit', () => fail(new Error('decoding worker stopped')));
      this.threads.push(t);
    }
  }

  decode(job: Omit<DecodeJob, 'id' | 'sharp'>): Promise<DecodeResult> {
    const t = this.threads.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = this.nextId++;
    const sharp = 'files' in job.source && sharpForThreads(job.source.files);
    return new Promise((resolve, reject) => {
      t.pending.set(id, { resolve, reject });
      const reuse = (job.reuse ?? []).flatMap((r) => (r ? [r.buffer as ArrayBuffer] : []));
      t.worker.postMessage({ ...job, id, sharp } satisfies DecodeJob, reuse);
    });
  }

  /**
   * Ends the threads without waiting: each stops after the images it is decoding (its sharp calls in flight
   * return first) and then exits on its own.
   * Terminating one inside zlib's inflate aborts the process ("close before init" in node_zlib.cc), so they are
   * never terminated; a process waits for them with inferenceThreadsStopped() before it exits.
   */
  close(): void {
    Atomics.store(this.stop, 0, 1);
    for (const t of this.threads) t.worker.postMessage({ type: 'close' });
  }
}
