// Keeps the cache under its size cap: whole packs go, least recently used first (a pack's modification time is
// refreshed whenever it serves a run). Packs are written per split and capped in size, so a pack is a small unit.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { FORMAT_DIR } from './spec-store';

/** A temporary pack this old belongs to a process that died while writing it. */
const ABANDONED_MS = 60 * 60 * 1000;

interface PackFile {
  file: string;
  size: number;
  mtimeMs: number;
}

async function listPacks(root: string): Promise<{ packs: PackFile[]; abandoned: string[] }> {
  const packs: PackFile[] = [];
  const abandoned: string[] = [];
  const base = path.join(root, FORMAT_DIR);
  const specs = await fs.readdir(base).catch(() => [] as string[]);
  const now = Date.now();
  for (const spec of specs) {
    const names = await fs.readdir(path.join(base, spec)).catch(() => [] as string[]);
    for (const name of names) {
      const file = path.join(base, spec, name);
      const st = await fs.stat(file).catch(() => null);
      if (!st?.isFile()) continue;
      if (name.endsWith('.pack')) packs.push({ file, size: st.size, mtimeMs: st.mtimeMs });
      else if (name.endsWith('.pack.tmp') && now - st.mtimeMs > ABANDONED_MS) abandoned.push(file);
    }
  }
  return { packs, abandoned };
}

/** Marks packs as used now (the recency eviction goes by). */
export async function touchPacks(files: Iterable<string>): Promise<void> {
  const now = new Date();
  await Promise.all([...files].map((f) => fs.utimes(f, now, now).catch(() => undefined)));
}

/**
 * Removes the least recently used packs until the cache holds at most `maxBytes`, and abandoned temporary files.
 * Another process may be reading a pack removed here: its reads fail and count as misses. Returns bytes kept.
 */
export async function evict(root: string, maxBytes: number): Promise<number> {
  const { packs, abandoned } = await listPacks(root);
  await Promise.all(abandoned.map((f) => fs.rm(f, { force: true }).catch(() => undefined)));
  let total = packs.reduce((s, p) => s + p.size, 0);
  packs.sort((a, b) => a.mtimeMs - b.mtimeMs || a.file.localeCompare(b.file));
  for (const p of packs) {
    if (total <= maxBytes) break;
    // Gone already (another process evicted it) counts as removed; a file that cannot be removed still counts.
    const removed = await fs.rm(p.file, { force: true }).then(() => true, () => false);
    if (removed) total -= p.size;
  }
  return total;
}
