// Worker threads (inference and decoding) that have not ended yet. A process must not exit (process.exit, extension
// host shutdown) while one of them is inside native code: tearing a thread down under onnxruntime's session
// creation or run aborts the process ("terminate called after throwing an instance of 'Napi::Error'"), and under
// zlib's inflate too ("close before init"). So threads are never terminated mid-call, and exits wait here.
const live = new Set<Promise<unknown>>();

/**
 * Tracks a thread until `ended` resolves (its 'exit' event), or work that may still start threads (a model load)
 * until it settles.
 */
export function trackThreads(ended: Promise<unknown>): void {
  live.add(ended);
  void ended.then(() => live.delete(ended));
}

/**
 * Resolves once every worker thread started so far has ended. Threads end on their own once closed and idle
 * (ModelWorker.close, DecodePool.close), so this waits at most for a model load, a batch or one image in flight.
 */
export async function inferenceThreadsStopped(): Promise<void> {
  while (live.size) await Promise.all([...live]);
}
