// What every bench child measures and prints: peak RSS, CPU time, memory kept, phase times, one JSON line.
import { listDataset } from '../../src/engine/dataset/image-files';
import { PathList } from '../../src/engine/dataset/path-list';
import type { SplitPlan } from '../../src/engine/run/plan';

export const rssMB = (): number => process.resourceUsage().maxRSS / 1024;

/** CPU seconds of every thread of this process so far: less sensitive than wall time to other work on the machine. */
export function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** JavaScript heap plus memory outside it (typed arrays, buffers) after a full collection; null without --expose-gc. */
export function held(): number | null {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return null;
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

/** Seconds from the start to the end of each phase the engine reports (RunHooks.onProgress), to show the fixed costs. */
export function phaseClock(t0 = performance.now()) {
  const phases: Record<string, number> = {};
  let phase = 'start';
  const since = () => (performance.now() - t0) / 1000;
  const onProgress = (p: { phase: string }) => {
    if (p.phase !== phase) phases[phase] = since();
    phase = p.phase;
  };
  return { phases, onProgress, since };
}

/** The files of both folders as one unlabelled split. */
export async function bothFolders(id: string, ood: string): Promise<SplitPlan> {
  const files = PathList.of([...(await listDataset(id)).files, ...(await listDataset(ood)).files]);
  return { name: 'all', role: 'id', source: 'bench', files, folderClass: new Int32Array(files.length).fill(-1), classes: [], skipped: [] };
}

/** Prints the measurement as one JSON line and exits (0), or the error (1). */
export function printRow(measurement: Promise<unknown>, label = 'bench'): void {
  measurement.then(
    (r) => {
      process.stdout.write(JSON.stringify(r) + '\n');
      process.exit(0);
    },
    (e) => {
      process.stderr.write(`${label}: ${e instanceof Error ? e.stack : e}\n`);
      process.exit(1);
    },
  );
}
