/**
 * The "easy" OOD split made without OOD data: uniform noise images, seeded, one per index, so any sample can be
 * regenerated from its name (noise:N/<index>).
 */
export function noisePixels(index: number, seed: number, height: number, width: number, channels: number): Uint8Array {
  const out = new Uint8Array(height * width * channels);
  let s = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(index + 1, 0xc2b2ae35)) >>> 0;
  for (let i = 0; i < out.length; i++) {
    // mulberry32 step
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) >>> 24;
  }
  return out;
}

/** Parses `noise:N` (optionally `noise:N:SEED`); null when the split source is not a noise spec. */
export function parseNoiseSpec(source: string): { count: number; seed: number } | null {
  const m = /^noise:(\d+)(?::(\d+))?$/.exec(source.trim());
  if (!m) return null;
  return { count: Number(m[1]), seed: m[2] ? Number(m[2]) : 0 };
}
