import { describe, expect, it } from "vitest";
import { hotkeyLine, rewritesPanel } from "./rewrites";

describe("rewrite history", () => {
  it("lists rewrites newest first with their diff and whether they were used", () => {
    const panel = rewritesPanel(
      [
        { id: 2, original: "hi all", result: "Hello everyone", mode: "friendly", accepted: false, edited: false, model: null, created_at: 2 },
        { id: 1, original: "teh cat", result: "the cat", mode: "proofread", accepted: true, edited: false, model: "SmolLM2", created_at: 1 },
      ],
      { shortcut: "Ctrl+Alt+R", registered: true, message: null },
    );
    const items = panel.querySelectorAll(".rewrite");
    expect(items).toHaveLength(2);
    expect(items[0].textContent).toContain("not used");
    expect(items[1].querySelector("del")?.textContent).toBe("teh");
    expect(panel.querySelector("kbd")?.textContent).toBe("Ctrl+Alt+R");
  });

  it("says why the shortcut does not work", () => {
    const line = hotkeyLine({ shortcut: "Ctrl+Alt+R", registered: false, message: "bind `pith rephrase --clipboard` instead" });
    expect(line.getAttribute("role")).toBe("alert");
    expect(line.textContent).toContain("pith rephrase --clipboard");
  });
});
