import { describe, expect, it } from "vitest";
import { statusCard, statusPill } from "./view";

describe("status view", () => {
  it("shows the loaded model's facts", () => {
    const card = statusCard({
      state: "ready",
      threads: 2,
      model: {
        path: "/m/SmolLM2.gguf",
        name: "SmolLM2-135M-Instruct.Q4_1",
        architecture: "llama",
        parameters: 134_515_008,
        size_bytes: 98_362_432,
        layers: 30,
        trained_context: 8192,
        context: 4096,
        has_chat_template: true,
      },
    });
    expect(card.querySelector("h2")?.textContent).toBe("SmolLM2-135M-Instruct.Q4_1");
    expect(card.textContent).toContain("135M parameters · 98 MB");
    expect(card.textContent).toContain("4K tokens");
  });

  it("explains how to get a model on first run", () => {
    const card = statusCard({ state: "failed", error: { code: "MODEL_NOT_FOUND", message: "no model found" } });
    expect(card.getAttribute("role")).toBe("alert");
    expect(card.textContent).toContain("No model installed yet");
    expect(card.querySelector("code")?.textContent).toBe("npm run fetch-model");
    expect(Array.from(card.querySelectorAll("button"), (b) => b.textContent)).toEqual([
      "Choose a model to download",
      "Import a GGUF file…",
    ]);
  });

  it("shows other failures with their code", () => {
    const card = statusCard({ state: "failed", error: { code: "INVALID_MODEL", message: "truncated" } });
    expect(card.textContent).toContain("could not be loaded");
    expect(card.textContent).toContain("INVALID_MODEL");
  });

  it("puts model text in as text, never as markup", () => {
    const card = statusCard({ state: "failed", error: { code: "IO", message: "<img src=x onerror=alert(1)>" } });
    expect(card.querySelector("img")).toBeNull();
    expect(card.textContent).toContain("<img src=x onerror=alert(1)>");
  });

  it("labels the status pill for each state", () => {
    expect(statusPill({ state: "loading" }).textContent).toBe("Loading model…");
    expect(statusPill({ state: "ready", threads: 1, model: {} as never }).getAttribute("role")).toBe("status");
  });
});
