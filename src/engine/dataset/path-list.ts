/** Sample paths read by index; made on demand, so a split does not have to hold one string per file. */
export interface PathSource {
  readonly length: number;
  get(i: number): string;
}

/**
 * File paths stored as a shared folder prefix plus the file name's UTF-8 bytes: about 10 bytes per file outside the
 * JavaScript heap, where a string per file costs 80–100 bytes of heap and keeps the collector busy on big folders.
 */
export class PathList implements PathSource {
  private readonly prefixes: string[] = [];
  private readonly prefixIds = new Map<string, number>();
  private prefixOf: Uint32Array = new Uint32Array(64);
  /** ends[i] = end of name i in `bytes` (name i starts at ends[i − 1], or 0). */
  private ends: Uint32Array = new Uint32Array(64);
  private bytes = Buffer.alloc(1024);
  length = 0;

  static of(paths: Iterable<string>): PathList {
    const list = new PathList();
    for (const p of paths) list.push('', p);
    return list;
  }

  push(prefix: string, name: string): void {
    let id = this.prefixIds.get(prefix);
    if (id === undefined) {
      id = this.prefixes.push(prefix) - 1;
      this.prefixIds.set(prefix, id);
    }
    const start = this.length ? this.ends[this.length - 1] : 0;
    // A UTF-8 encoding takes at most 3 bytes per UTF-16 unit.
    if (start + name.length * 3 > this.bytes.length) {
      const bigger = Buffer.alloc(Math.max(start + name.length * 3, this.bytes.length * 2));
      bigger.set(this.bytes);
      this.bytes = bigger;
    }
    const written = this.bytes.write(name, start, 'utf8');
    if (this.length === this.ends.length) {
      this.ends = grow(this.ends, this.length + 1);
      this.prefixOf = grow(this.prefixOf, this.length + 1);
    }
    this.prefixOf[this.length] = id;
    this.ends[this.length] = start + written;
    this.length++;
  }

  get(i: number): string {
    if (!(i >= 0 && i < this.length)) throw new RangeError(`path index ${i} out of range (${this.length})`);
    return this.prefixes[this.prefixOf[i]] + this.name(i);
  }

  private name(i: number): string {
    return this.bytes.toString('utf8', i ? this.ends[i - 1] : 0, this.ends[i]);
  }

  /** Paths start ≤ i < end as strings (for a batch). */
  slice(start: number, end: number): string[] {
    const out: string[] = [];
    for (let i = start; i < Math.min(end, this.length); i++) out.push(this.get(i));
    return out;
  }

  /** A new list of the paths at `indices`, in that order. */
  subset(indices: ArrayLike<number>): PathList {
    const out = new PathList();
    for (let j = 0; j < indices.length; j++) {
      const i = indices[j];
      out.push(this.prefixes[this.prefixOf[i]], this.name(i));
    }
    return out;
  }

  *[Symbol.iterator](): IterableIterator<string> {
    for (let i = 0; i < this.length; i++) yield this.get(i);
  }
}

function grow(a: Uint32Array, need: number): Uint32Array {
  const out = new Uint32Array(Math.max(need, a.length * 2));
  out.set(a);
  return out;
}
