import { describe, expect, it } from "vitest";
import { unchanged, wordDiff } from "./diff";
import { diffView } from "./popup";

describe("word diff", () => {
  it("marks the words a proofread changed", () => {
    expect(wordDiff("teh cat sat on teh mat", "the cat sat on the mat")).toEqual([
      { op: "del", text: "teh" },
      { op: "add", text: "the" },
      { op: "same", text: " cat sat on " },
      { op: "del", text: "teh" },
      { op: "add", text: "the" },
      { op: "same", text: " mat" },
    ]);
  });

  it("keeps every word and space of both texts, in order", () => {
    const before = "We will meet on Monday to talk about the plan.";
    const after = "Let us meet on Monday morning to discuss the plan.";
    const parts = wordDiff(before, after);
    const side = (op: string) => parts.filter((p) => p.op !== op).map((p) => p.text).join("");
    expect(side("add")).toBe(before);
    expect(side("del")).toBe(after);
  });

  it("keeps the lines of a rewrite into bullet points", () => {
    const before = "We need milk and eggs. Also call the plumber about the sink.";
    const after = "- Buy milk and eggs\n- Call the plumber about the sink";
    const view = diffView(before, after);
    const shown = [...view.childNodes].filter((n) => n.nodeName !== "DEL").map((n) => n.textContent).join("");
    expect(shown).toBe(after);
    expect(shown.split("\n")).toHaveLength(2);
  });

  it("ignores spacing and handles empty texts", () => {
    expect(unchanged(wordDiff("a  b\nc", "a b c"))).toBe(true);
    expect(wordDiff("", "new words")).toEqual([{ op: "add", text: "new words" }]);
    expect(wordDiff("old words", "")).toEqual([{ op: "del", text: "old words" }]);
    expect(wordDiff("", "")).toEqual([]);
  });

  it("gives up on the fine diff for huge rewrites instead of freezing", () => {
    const a = Array.from({ length: 3000 }, (_, i) => `a${i}`).join(" ");
    const b = Array.from({ length: 3000 }, (_, i) => `b${i}`).join(" ");
    expect(wordDiff(a, b).map((p) => p.op)).toEqual(["del", "add"]);
  });
});
