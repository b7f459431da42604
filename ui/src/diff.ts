// A word-level diff of a rewrite against its original: which words were
// kept, removed and added. Longest common subsequence over words; for very
// long texts (over a few million word pairs) it falls back to "all
// replaced" rather than freeze the popup.

export type DiffOp = "same" | "del" | "add";

export interface DiffPart {
  op: DiffOp;
  text: string;
}

const MAX_CELLS = 4_000_000;

function words(s: string): string[] {
  return s.split(/\s+/).filter(Boolean);
}

/** The parts, in reading order; consecutive words with one op are joined. */
export function wordDiff(before: string, after: string): DiffPart[] {
  const a = words(before);
  const b = words(after);
  const ops: [DiffOp, string][] = [];
  if (a.length * b.length > MAX_CELLS) {
    for (const w of a) ops.push(["del", w]);
    for (const w of b) ops.push(["add", w]);
  } else {
    // lcs[i][j]: common words of a[i..] and b[j..].
    const lcs = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
    for (let i = a.length - 1; i >= 0; i--) {
      for (let j = b.length - 1; j >= 0; j--) {
        lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
      }
    }
    let i = 0;
    let j = 0;
    while (i < a.length || j < b.length) {
      if (i < a.length && j < b.length && a[i] === b[j]) {
        ops.push(["same", a[i]]);
        i++;
        j++;
      } else if (i < a.length && (j === b.length || lcs[i + 1][j] >= lcs[i][j + 1])) {
        // Removed words before added ones within a changed stretch.
        ops.push(["del", a[i++]]);
      } else {
        ops.push(["add", b[j++]]);
      }
    }
  }
  const parts: DiffPart[] = [];
  for (const [op, w] of ops) {
    const last = parts[parts.length - 1];
    if (last && last.op === op) last.text += ` ${w}`;
    else parts.push({ op, text: w });
  }
  return parts;
}

/** True when nothing but spacing changed. */
export function unchanged(parts: DiffPart[]): boolean {
  return parts.every((p) => p.op === "same");
}
