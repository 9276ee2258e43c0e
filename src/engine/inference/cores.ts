// How many threads an onnxruntime session is given. Its own default ("one per physical core") ran ResNet-18 on one
// thread of this project's 2-core Linux VMs (49 images/s against 89 with two): the count is set here instead.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

const read = (file: string): string | null => {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
};

/** Logical CPUs per physical core, from Linux's topology (cpu0's hyper-thread siblings); 1 where it is not known. */
function threadsPerCore(): number {
  const list = read('/sys/devices/system/cpu/cpu0/topology/thread_siblings_list'); // e.g. "0", "0,32" or "0-1"
  if (!list) return 1;
  const n = list.split(',').reduce((sum, part) => {
    const [a, b] = part.split('-').map(Number);
    return sum + (b === undefined ? 1 : b - a + 1);
  }, 0);
  return n >= 1 ? n : 1;
}

/**
 * A container's CPU limit (cgroup v2 cpu.max, or v1's CFS quota), rounded up; Infinity without one. A pod limited to
 * 2 CPUs on a 64-core node would otherwise start 64 threads that take turns on 2 CPUs' worth of time.
 */
export function cpuQuota(files = { v2: '/sys/fs/cgroup/cpu.max', quota: '/sys/fs/cgroup/cpu/cpu.cfs_quota_us', period: '/sys/fs/cgroup/cpu/cpu.cfs_period_us' }): number {
  const [quota, period] = read(files.v2)?.split(/\s+/) ?? [read(files.quota), read(files.period)];
  const q = Number(quota), p = Number(period);
  return q > 0 && p > 0 ? Math.ceil(q / p) : Infinity;
}

let cached: number | undefined;

/** The physical cores this process may use: the CPUs it may run on over hyper-threads per core, within its quota. */
export function physicalCores(): number {
  cached ??= Math.max(1, Math.min(cpuQuota(), Math.round(availableParallelism() / threadsPerCore())));
  return cached;
}
