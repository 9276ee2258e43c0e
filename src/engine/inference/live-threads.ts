// Inference threads that have not ended yet. A process must not exit (process.exit, extension host shutdown)
// while one of them is inside onnxruntime (creating a session, or in session.run): tearing a thread down under a
// native call aborts the whole process ("terminate called after throwing an instance of 'Napi::Error'").
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
 * Resolves once every inference thread started so far has ended. Threads end on their own once closed and idle
 * (ModelWorker.close), so this waits at most for a model load or a batch in flight.
 */
export async function inferenceThreadsStopped(): Promise<void> {
  while (live.size) await Promise.all([...live]);
}
