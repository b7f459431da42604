// A word-level diff of a rewrite against its original — which words were
// kept, removed and added — by the `diff` library, keeping the spacing
// and line breaks of the texts, so a rewrite into bullet points shows as
// lines. Past a number of changes or a time limit (a very long text) it
// falls back to "all replaced" rather than freeze the popup.
import { diffWordsWithSpace } from "diff";

export type DiffOp = "same" | "del" | "add";

export interface DiffPart {
  op: DiffOp;
  text: string;
}

/** Words and spaces changed past which the diff shows "all replaced". */
const MAX_EDITS = 4000;

/** The parts, in reading order, with the texts' own spacing. */
export function wordDiff(before: string, after: string): DiffPart[] {
  const changes = diffWordsWithSpace(before, after, { timeout: 250, maxEditLength: MAX_EDITS });
  if (!changes) {
    return [
      { op: "del", text: before },
      { op: "add", text: after },
    ].filter((p): p is DiffPart => p.text.length > 0);
  }
  const parts: DiffPart[] = [];
  for (const c of changes) {
    const op: DiffOp = c.added ? "add" : c.removed ? "del" : "same";
    const last = parts[parts.length - 1];
    if (last && last.op === op) last.text += c.value;
    else parts.push({ op, text: c.value });
  }
  return parts;
}

/** True when nothing but spacing changed. */
export function unchanged(parts: DiffPart[]): boolean {
  return parts.every((p) => p.op === "same" || p.text.trim() === "");
}
