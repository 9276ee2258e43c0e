import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { UserError, throwIfAborted } from '../util/errors';
import { PathList } from './path-list';

/** Extensions decoded as images; anything else in a dataset folder is ignored silently. */
export const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.bmp', '.gif', '.tif', '.tiff']);

export function isImageFile(name: string): boolean {
  return IMAGE_EXTENSIONS.has(path.extname(name).toLowerCase());
}

/**
 * Entries skipped silently: hidden files and folders (.DS_Store, macOS "._x.png" resource forks,
 * .ipynb_checkpoints) and the __MACOSX folder that zip archives made on a Mac carry. None is a sample or a class.
 */
export function isIgnoredEntry(name: string): boolean {
  return name.startsWith('.') || name === '__MACOSX';
}

function errnoReason(what: string, e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'EACCES' || code === 'EPERM' ? `${what}: permission denied` : `${what}: ${code ?? e}`;
}

export interface DatasetListing {
  /** Sorted class folder names (ImageFolder layout); empty for a flat folder. */
  classes: string[];
  files: PathList;
  /** Index into `classes` per file; -1 for files directly in the root of an ImageFolder tree or a flat folder. */
  classOf: Int32Array;
  /** Entries that could not be listed (unreadable folders, broken links). */
  skipped: { path: string; reason: string }[];
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** What path.join(dir, name) puts before `name`; it is stored once per folder (see PathList). */
function joinPrefix(dir: string): string {
  return path.join(dir, '_').slice(0, -1);
}

/**
 * Walks a folder recursively, following symbolic links but never into a directory already on the current path
 * or already visited (real paths), so link loops end. Files come out in sorted order for reproducible runs.
 */
async function walk(
  dir: string,
  out: PathList,
  skipped: DatasetListing['skipped'],
  visited: Set<string>,
  signal?: AbortSignal,
): Promise<void> {
  throwIfAborted(signal);
  let real: string;
  try {
    real = await fs.realpath(dir);
  } catch (e) {
    skipped.push({ path: dir, reason: errnoReason('cannot resolve folder', e) });
    return;
  }
  if (visited.has(real)) return;
  visited.add(real);
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (e) {
    skipped.push({ path: dir, reason: errnoReason('cannot read folder', e) });
    return;
  }
  entries.sort((a, b) => byName(a.name, b.name));
  const prefix = joinPrefix(dir);
  for (const entry of entries) {
    if (isIgnoredEntry(entry.name)) continue;
    let isDir = entry.isDirectory();
    let isFile = entry.isFile();
    if (entry.isSymbolicLink()) {
      try {
        const st = await fs.stat(prefix + entry.name);
        isDir = st.isDirectory();
        isFile = st.isFile();
      } catch {
        skipped.push({ path: prefix + entry.name, reason: 'broken symbolic link' });
        continue;
      }
    }
    if (isDir) await walk(prefix + entry.name, out, skipped, visited, signal);
    else if (isFile && isImageFile(entry.name)) out.push(prefix, entry.name);
  }
}

/**
 * Lists an image folder. ImageFolder layout (one sub-folder per class, recursive inside each) when the root has
 * sub-folders; otherwise a flat folder of unlabelled images.
 */
export async function listDataset(root: string, signal?: AbortSignal): Promise<DatasetListing> {
  let st;
  try {
    st = await fs.stat(root);
  } catch {
    throw new UserError(`Folder not found: ${root}`);
  }
  if (!st.isDirectory()) throw new UserError(`Not a folder: ${root}`);
  let entries: import('node:fs').Dirent[];
  try {
    entries = (await fs.readdir(root, { withFileTypes: true })).filter((e) => !isIgnoredEntry(e.name));
  } catch (e) {
    throw new UserError(errnoReason(`Cannot read folder ${root}`, e));
  }
  const classDirs: string[] = [];
  for (const e of entries) {
    throwIfAborted(signal);
    if (e.isDirectory() || (e.isSymbolicLink() && (await fs.stat(path.join(root, e.name)).catch(() => null))?.isDirectory())) {
      classDirs.push(e.name);
    }
  }
  classDirs.sort(byName);
  const isClass = new Set(classDirs);
  const files = new PathList();
  const classOf: number[] = [];
  const skipped: DatasetListing['skipped'] = [];
  const visited = new Set<string>([await fs.realpath(root)]);
  const prefix = joinPrefix(root);
  for (const e of [...entries].sort((a, b) => byName(a.name, b.name))) {
    if (isClass.has(e.name) || !isImageFile(e.name)) continue;
    const p = prefix + e.name;
    const target = e.isSymbolicLink() ? await fs.stat(p).catch(() => null) : e;
    if (target?.isFile()) {
      files.push(prefix, e.name);
      classOf.push(-1);
    } else if (!target) {
      skipped.push({ path: p, reason: 'broken symbolic link' });
    }
  }
  for (let c = 0; c < classDirs.length; c++) {
    const before = files.length;
    await walk(prefix + classDirs[c], files, skipped, visited, signal);
    for (let i = before; i < files.length; i++) classOf.push(c);
  }
  return { classes: classDirs, files, classOf: Int32Array.from(classOf), skipped };
}
