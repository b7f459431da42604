// Drop to summarize: the overlay shown while a file is dragged over the
// window, and the progress card while a document is read. Pure DOM from
// plain data, tested without a window.
import type { SummaryEvent } from "./api";
import { el } from "./dom";

const STAGE: Record<string, string> = { map: "Reading", retry: "Checking", reduce: "Combining" };

/** One line for the progress card: what is happening, how far, time left. */
export function progressText(e: SummaryEvent): string {
  if (e.event === "reading") return "Taking the text out of the file…";
  const what = STAGE[e.stage] ?? "Working";
  const parts = e.stage === "reduce" ? "all parts read" : `${e.parts_done} of ${e.parts} part${e.parts === 1 ? "" : "s"}`;
  const eta = e.eta_s !== null && e.eta_s >= 1 ? ` · about ${formatSeconds(e.eta_s)} left` : "";
  return `${what} · ${parts}${eta}`;
}

/** How much is done, 0 to 1; null while the amount is unknown. */
export function progressFraction(e: SummaryEvent): number | null {
  if (e.event === "reading" || e.parts === 0) return null;
  // The reduce step is the last tenth.
  return e.stage === "reduce" ? 0.9 : Math.min(0.9, (0.9 * e.parts_done) / e.parts);
}

export function formatSeconds(s: number): string {
  const n = Math.ceil(s);
  return n < 60 ? `${n} s` : `${Math.floor(n / 60)} min ${n % 60 ? `${n % 60} s` : ""}`.trim();
}

export interface SummaryCard {
  node: HTMLElement;
  update(e: SummaryEvent): void;
}

/** The card shown while `name` is summarized; `onCancel` stops it. */
export function summaryCard(name: string, onCancel: () => void): SummaryCard {
  const bar = el("progress", { class: "summary-progress", max: "1", "aria-label": `Summarizing ${name}` });
  const line = el("p", { class: "muted summary-line", role: "status" }, "Starting…");
  const cancel = el("button", { type: "button", class: "cancel-summary" }, "Cancel");
  cancel.addEventListener("click", onCancel);
  const node = el(
    "section",
    { class: "card summary-card", "aria-busy": "true" },
    el("h2", {}, `Summarizing ${name}`),
    bar,
    el("div", { class: "summary-foot" }, line, cancel),
  );
  return {
    node,
    update(e) {
      line.textContent = progressText(e);
      const f = progressFraction(e);
      if (f === null) bar.removeAttribute("value");
      else bar.value = f;
    },
  };
}

export function dropOverlay(): HTMLElement {
  const node = el(
    "div",
    { class: "drop-overlay", "aria-hidden": "true" },
    el(
      "div",
      { class: "drop-target" },
      el("p", { class: "drop-title" }, "Drop to summarize"),
      el("p", { class: "muted" }, "PDF, Word (.docx), HTML, Markdown or text"),
    ),
  );
  node.hidden = true;
  return node;
}
