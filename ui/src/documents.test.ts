import { describe, expect, it, vi } from "vitest";
import { dropOverlay, formatSeconds, progressFraction, progressText, summaryCard } from "./documents";

describe("document summary progress", () => {
  it("says what is happening, how far, and how long is left", () => {
    expect(progressText({ event: "reading" })).toBe("Taking the text out of the file…");
    expect(progressText({ event: "progress", stage: "map", parts_done: 4, parts: 16, eta_s: 41.2 })).toBe(
      "Reading · 4 of 16 parts · about 42 s left",
    );
    expect(progressText({ event: "progress", stage: "map", parts_done: 0, parts: 1, eta_s: null })).toBe("Reading · 0 of 1 part");
    expect(progressText({ event: "progress", stage: "reduce", parts_done: 16, parts: 16, eta_s: 0 })).toBe("Combining · all parts read");
  });

  it("fills the bar with the parts, leaving the last tenth for combining", () => {
    expect(progressFraction({ event: "reading" })).toBeNull();
    expect(progressFraction({ event: "progress", stage: "map", parts_done: 8, parts: 16, eta_s: null })).toBeCloseTo(0.45);
    expect(progressFraction({ event: "progress", stage: "reduce", parts_done: 16, parts: 16, eta_s: null })).toBe(0.9);
  });

  it("writes minutes for long waits", () => {
    expect(formatSeconds(58.2)).toBe("59 s");
    expect(formatSeconds(59.2)).toBe("1 min");
    expect(formatSeconds(125)).toBe("2 min 5 s");
    expect(formatSeconds(120)).toBe("2 min");
  });

  it("shows the file's name as text, updates, and cancels", () => {
    const cancel = vi.fn();
    const card = summaryCard('<img src="http://x/y.png">.pdf', cancel);
    expect(card.node.querySelector("img")).toBeNull();
    expect(card.node.querySelector("h2")?.textContent).toBe('Summarizing <img src="http://x/y.png">.pdf');
    card.update({ event: "progress", stage: "map", parts_done: 1, parts: 2, eta_s: 5 });
    expect(card.node.querySelector("progress")?.value).toBeCloseTo(0.45);
    expect(card.node.querySelector(".summary-line")?.textContent).toBe("Reading · 1 of 2 parts · about 5 s left");
    card.node.querySelector<HTMLButtonElement>(".cancel-summary")?.click();
    expect(cancel).toHaveBeenCalledOnce();
  });

  it("has a drop overlay that starts hidden", () => {
    const o = dropOverlay();
    expect(o.hidden).toBe(true);
    expect(o.textContent).toContain("Drop to summarize");
  });
});
