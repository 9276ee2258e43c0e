/** An error whose message is meant for the user as one clear sentence (the CLI prints it without a stack). */
export class UserError extends Error {
  override name = 'UserError';
}

/** Thrown when a run is cancelled; callers keep what was computed before it. */
export class CancelledError extends Error {
  override name = 'CancelledError';
  constructor() {
    super('cancelled');
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError();
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
