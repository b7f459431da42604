// The rewrite history: every clipboard rewrite, accepted or not, newest
// first, with the shortcut's state. Pure DOM from plain data.
import type { HotkeyStatus, Rewrite } from "./api";
import { diffView } from "./popup";
import { el } from "./dom";

function when(ms: number): string {
  return new Date(ms).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** How to use the shortcut, or why it does not work and what to do. */
export function hotkeyLine(s: HotkeyStatus | null): HTMLElement {
  if (!s) return el("p", { class: "muted hotkey-line" }, "Checking the shortcut…");
  if (s.registered) {
    return el("p", { class: "hotkey-line" }, "Copy text anywhere and press ", el("kbd", {}, s.shortcut), " to get it rewritten.");
  }
  return el("p", { class: "hotkey-line error", role: "alert" }, s.message ?? `The shortcut ${s.shortcut} is not registered.`);
}

export function rewritesPanel(list: Rewrite[], hotkey: HotkeyStatus | null): HTMLElement {
  const items = list.map((r) =>
    el(
      "li",
      { class: "rewrite", "data-accepted": String(r.accepted) },
      el(
        "p",
        { class: "rewrite-head muted" },
        `${r.mode} · ${when(r.created_at)} · ${r.accepted ? "accepted" : "not used"}${r.model ? ` · ${r.model}` : ""}`,
      ),
      diffView(r.original, r.result),
    ),
  );
  return el(
    "section",
    { class: "card rewrites" },
    el("h2", {}, "Rewrites"),
    hotkeyLine(hotkey),
    el(
      "p",
      { class: "rewrites-actions" },
      el("button", { type: "button", class: "primary rephrase-now" }, "Rephrase the clipboard now"),
      el("button", { type: "button", class: "restore-clipboard", title: "Put back the text the last accepted rewrite replaced" }, "Restore the original clipboard"),
    ),
    items.length ? el("ul", { class: "rewrite-list" }, ...items) : el("p", { class: "muted" }, "No rewrites yet."),
  );
}
