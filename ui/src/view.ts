// Renders the engine status. Pure DOM building from plain data, so it is
// tested without a window.
import type { EngineStatus, ModelInfo } from "./api";
import { el } from "./dom";
import { formatBytes, formatParameters, formatTokens } from "./format";


/** One line naming the loaded model, for the sidebar. */
export function modelSummary(m: ModelInfo, threads: number): string {
  return `${m.name} · ${formatParameters(m.parameters)} · ${formatTokens(m.context)} · ${threads} threads`;
}

export function statusPill(status: EngineStatus): HTMLElement {
  const text = { loading: "Loading model…", ready: "Ready", failed: "No model" }[status.state];
  return el("span", { class: `pill pill-${status.state}`, role: "status" }, text);
}

export function statusCard(status: EngineStatus): HTMLElement {
  switch (status.state) {
    case "loading":
      return el(
        "section",
        { class: "card", "aria-busy": "true" },
        el("h2", {}, "Loading the model"),
        el("p", { class: "muted" }, "Reading the model into memory. This takes a moment on first start."),
      );
    case "ready": {
      const m = status.model;
      return el(
        "section",
        { class: "card" },
        el("h2", {}, m.name),
        el(
          "dl",
          { class: "facts" },
          el("dt", {}, "Size"),
          el("dd", {}, `${formatParameters(m.parameters)} · ${formatBytes(m.size_bytes)}`),
          el("dt", {}, "Context"),
          el("dd", {}, formatTokens(m.context)),
          el("dt", {}, "Architecture"),
          el("dd", {}, `${m.architecture}, ${m.layers} layers`),
          el("dt", {}, "Threads"),
          el("dd", {}, String(status.threads)),
        ),
        el("p", { class: "muted" }, "Runs entirely on this computer. Nothing you write leaves it."),
      );
    }
    case "failed": {
      if (status.error.code === "MODEL_NOT_FOUND") {
        return el(
          "section",
          { class: "card card-warn first-run", role: "alert" },
          el("h2", {}, "No model installed yet"),
          el(
            "p",
            {},
            "Pith runs a small language model on this computer, so nothing you write leaves it. Download the model recommended for this computer, or import a GGUF file you already have.",
          ),
          el(
            "p",
            { class: "first-run-actions" },
            el("button", { type: "button", class: "show-models primary" }, "Choose a model to download"),
            el("button", { type: "button", class: "import-model" }, "Import a GGUF file…"),
          ),
          el(
            "p",
            { class: "muted" },
            "From a terminal: ",
            el("code", {}, "npm run fetch-model"),
            " fetches the default model (SmolLM2 135M, 98 MB).",
          ),
          el("p", { class: "detail" }, status.error.message),
        );
      }
      return el(
        "section",
        { class: "card card-warn", role: "alert" },
        el("h2", {}, "The model could not be loaded"),
        el("p", {}, status.error.message),
        el("p", { class: "detail" }, `Error code: ${status.error.code}`),
      );
    }
  }
}
