import type { Worker } from 'node:worker_threads';
import { startBundledWorker } from '../util/bundled-script';
import type { DecodeJob, DecodeReply, DecodeResult } from './decode-messages';

interface Thread {
  worker: Worker;
  pending: Map<number, { resolve(r: DecodeResult): void; reject(e: Error): void }>;
}

/** Decoding worker threads; each job goes to the thread with the fewest jobs waiting. */
export class DecodePool {
  private readonly threads: Thread[] = [];
  private nextId = 0;

  constructor(readonly size: number) {
    for (let i = 0; i < size; i++) {
      const t: Thread = { worker: startBundledWorker('decode-worker.js'), pending: new Map() };
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

  decode(job: Omit<DecodeJob, 'id'>): Promise<DecodeResult> {
    const t = this.threads.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      t.pending.set(id, { resolve, reject });
      const reuse = (job.reuse ?? []).flatMap((r) => (r ? [r.buffer as ArrayBuffer] : []));
      t.worker.postMessage({ ...job, id } satisfies DecodeJob, reuse);
    });
  }

  /** Pure JavaScript runs in these threads, so they can end at once, even mid-job (after a cancel). */
  close(): void {
    for (const t of this.threads) void t.worker.terminate();
  }
}
