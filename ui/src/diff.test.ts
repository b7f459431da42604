import { describe, expect, it } from "vitest";
import { unchanged, wordDiff } from "./diff";

describe("word diff", () => {
  it("marks the words a proofread changed", () => {
    expect(wordDiff("teh cat sat on teh mat", "the cat sat on the mat")).toEqual([
      { op: "del", text: "teh" },
      { op: "add", text: "the" },
      { op: "same", text: "cat sat on" },
      { op: "del", text: "teh" },
      { op: "add", text: "the" },
      { op: "same", text: "mat" },
    ]);
  });

  it("keeps every word of both texts, in order", () => {
    const before = "We will meet on Monday to talk about the plan.";
    const after = "Let us meet on Monday morning to discuss the plan.";
    const parts = wordDiff(before, after);
    const side = (op: string) => parts.filter((p) => p.op !== op).map((p) => p.text).join(" ");
    expect(side("add")).toBe(before);
    expect(side("del")).toBe(after);
  });

  it("ignores spacing and handles empty texts", () => {
    expect(unchanged(wordDiff("a  b\nc", "a b c"))).toBe(true);
    expect(wordDiff("", "new words")).toEqual([{ op: "add", text: "new words" }]);
    expect(wordDiff("old words", "")).toEqual([{ op: "del", text: "old words" }]);
    expect(wordDiff("", "")).toEqual([]);
  });

  it("gives up on the fine diff for huge texts instead of freezing", () => {
    const big = Array.from({ length: 2500 }, (_, i) => `w${i}`).join(" ");
    const parts = wordDiff(big, `${big} x`);
    expect(parts.map((p) => p.op)).toEqual(["del", "add"]);
  });
});
