// The Settings screen: the rephrase shortcut, the default rephrase mode,
// the theme, and where the data lives. Pure DOM from plain data.
import type { AppSettings, Learned, RephraseMode, SettingsView, Theme, TuneEvent, TuneReport } from "./api";
import { el } from "./dom";

/** Light, dark, or the desktop's choice ("system"). */
export function applyTheme(theme: Theme, root: HTMLElement = document.documentElement): void {
  if (theme === "system") delete root.dataset.theme;
  else root.dataset.theme = theme;
}

const THEMES: [Theme, string][] = [
  ["system", "Same as the desktop"],
  ["light", "Light"],
  ["dark", "Dark"],
];

function capitalized(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function field(label: string, control: HTMLElement, hint: string): HTMLElement {
  const id = `setting-${control.getAttribute("name")}`;
  control.id = id;
  return el("div", { class: "field" }, el("label", { for: id }, label), control, el("p", { class: "hint" }, hint));
}

/**
 * The settings form. `save` stores the settings and resolves to them as
 * stored, or rejects with an `{code, message}` error shown under the form.
 */
export function settingsPanel(
  view: SettingsView,
  save: (app: AppSettings) => Promise<AppSettings>,
  openLogs: () => Promise<void> = async () => undefined,
): HTMLElement {
  const hotkey = el("input", { name: "hotkey", type: "text", autocomplete: "off", spellcheck: "false" });
  hotkey.value = view.app.hotkey;
  const mode = el("select", { name: "rephrase_mode" });
  for (const m of view.modes) mode.append(el("option", { value: m }, capitalized(m)));
  mode.value = view.app.rephrase_mode;
  const paste = el("input", { name: "auto_paste", type: "checkbox" });
  paste.checked = view.app.auto_paste;
  const prepare = el("input", { name: "prepare_copied_text", type: "checkbox" });
  prepare.checked = view.app.prepare_copied_text;
  const atLogin = el("input", { name: "open_at_login", type: "checkbox" });
  atLogin.checked = view.app.open_at_login;
  const learn = el("input", { name: "learn_from_accepted", type: "checkbox" });
  learn.checked = view.app.learn_from_accepted;
  const debugLogs = el("input", { name: "debug_logs", type: "checkbox" });
  debugLogs.checked = view.app.debug_logs;
  const logsButton = el("button", { type: "button", class: "open-logs" }, "Open log folder");
  const theme = el("select", { name: "theme" });
  for (const [value, label] of THEMES) theme.append(el("option", { value }, label));
  theme.value = view.app.theme;
  theme.addEventListener("change", () => applyTheme(theme.value as Theme));
  const status = el("p", { class: "settings-status", role: "status" });
  const saveButton = el("button", { type: "submit", class: "primary" }, "Save");
  const form = el(
    "form",
    { class: "card settings", "aria-label": "Settings" },
    el("h2", {}, "Settings"),
    field("Rephrase shortcut", hotkey, "Copy text anywhere, press this, and get it rewritten. For example Ctrl+Alt+R."),
    field("Default rephrase mode", mode, "What the shortcut does first; the popup can switch."),
    field(
      "Paste after Accept",
      paste,
      "Also paste the accepted rewrite into the window you copied from (X11 desktops, with xdotool installed).",
    ),
    field(
      "Prepare copied text for the shortcut",
      prepare,
      "Start reading text as soon as you copy it, so the shortcut's rewrite begins at once. Uses a moment of CPU per copy; nothing is stored.",
    ),
    field(
      "Learn from accepted rewrites",
      learn,
      "Show the model your accepted rewrites (edited ones too) most like a new text, as examples. They stay on this computer; see and clear them under Learning.",
    ),
    field("Theme", theme, "Light or dark; by default the same as the desktop."),
    field("Open at login", atLogin, "Start Pith when you log in, so the shortcuts work from the start."),
    el(
      "div",
      { class: "field" },
      el("span", { class: "label" }, "Data folder"),
      el("code", { class: "data-dir" }, view.data_dir || "none"),
      el(
        "p",
        { class: "hint" },
        "Conversations, saved model states and these settings are kept here. Start Pith with PITH_DATA_DIR set to keep them elsewhere.",
      ),
    ),
    field(
      "Include my text in the logs",
      debugLogs,
      "For a bug report only: the logs then hold the text you rewrite or send. Off, they hold only its length.",
    ),
    el(
      "div",
      { class: "field" },
      el("span", { class: "label" }, "Logs"),
      el("code", { class: "log-dir" }, view.log_dir || "none"),
      el("p", { class: "hint" }, "A file a day, two weeks kept. Send the latest when something breaks."),
      logsButton,
    ),
    el("div", { class: "settings-foot" }, status, saveButton),
  );
  logsButton.addEventListener("click", () => {
    openLogs().catch((err: unknown) => {
      status.classList.add("error");
      status.textContent = typeof err === "object" && err && "message" in err ? String(err.message) : String(err);
    });
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    status.classList.remove("error");
    status.textContent = "Saving…";
    const app: AppSettings = {
      ...view.app,
      hotkey: hotkey.value,
      rephrase_mode: mode.value as RephraseMode,
      auto_paste: paste.checked,
      prepare_copied_text: prepare.checked,
      learn_from_accepted: learn.checked,
      debug_logs: debugLogs.checked,
      open_at_login: atLogin.checked,
      theme: theme.value as Theme,
    };
    save(app).then(
      (stored) => {
        view.app = stored;
        hotkey.value = stored.hotkey;
        status.textContent = "Saved.";
      },
      (err: unknown) => {
        status.classList.add("error");
        status.textContent = typeof err === "object" && err && "message" in err ? String(err.message) : String(err);
      },
    );
  });
  return form;
}

/** What the Learning card calls. */
export interface LearningApi {
  list(): Promise<Learned>;
  clear(): Promise<number>;
  tune(mode: RephraseMode, onEvent: (e: TuneEvent) => void): Promise<TuneReport>;
  cancelTune(): Promise<void>;
}

function message(err: unknown): string {
  return typeof err === "object" && err && "message" in err ? String(err.message) : String(err);
}

/** One line of a tuning run's progress. */
export function tuneProgress(e: TuneEvent): string {
  switch (e.stage) {
    case "pairs":
      return `The teacher is writing examples: ${e.done} of ${e.of}`;
    case "split":
      return `${e.train} training pairs, ${e.held_out} held out to judge the result`;
    case "copying":
      return "Preparing a copy of the model to train…";
    case "training":
      return `Training: step ${e.step} of ${e.steps} (loss ${e.loss.toFixed(2)}, ${Math.round(e.tokens_per_s)} tokens/s)`;
    case "factoring":
      return "Writing the adapter…";
    case "evaluating":
      return `Judging ${e.tuned ? "the tuned model" : "the model as it is"} on held-out examples: ${e.done} of ${e.of}`;
  }
}

/** How a finished run went, in a sentence. */
export function tuneSummary(r: TuneReport): string {
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  return `Installed a ${r.mode} adapter: held-out pass rate ${pct(r.base.pass_rate)} → ${pct(r.tuned.pass_rate)} (${r.gain.pass_rate_points >= 0 ? "+" : ""}${Math.round(r.gain.pass_rate_points)} points), trained in ${r.minutes.toFixed(1)} minutes on ${r.train_pairs} pairs.`;
}

/**
 * The Learning card: the accepted rewrites Pith learns from (listed, cleared)
 * and tuning the model for a mode, with progress and Cancel.
 */
export function learningPanel(view: SettingsView, api: LearningApi): HTMLElement {
  const count = el("p", { class: "learned-count" }, "Loading…");
  const list = el("ul", { class: "learned-list" });
  const clear = el("button", { type: "button", class: "learned-clear" }, "Clear what Pith learned");
  const mode = el("select", { name: "tune_mode", id: "setting-tune_mode" });
  for (const m of view.modes) mode.append(el("option", { value: m }, capitalized(m)));
  mode.value = "proofread";
  const tune = el("button", { type: "button", class: "primary tune-start" }, "Tune");
  const cancel = el("button", { type: "button", class: "tune-cancel", hidden: "" }, "Cancel");
  const progress = el("progress", { class: "tune-progress", max: "1", value: "0", hidden: "" });
  const status = el("p", { class: "tune-status", role: "status" });
  const refresh = async () => {
    try {
      const learned = await api.list();
      count.textContent =
        learned.count === 0
          ? "Nothing yet: accepted rewrites will appear here."
          : learned.count === 1
            ? "1 accepted rewrite is used as an example."
            : `${learned.count} accepted rewrites are used as examples.`;
      list.replaceChildren(
        ...learned.latest.map((r) =>
          el(
            "li",
            {},
            el("span", { class: "learned-mode" }, r.mode),
            el("span", { class: "learned-original" }, r.original),
            " → ",
            el("span", { class: "learned-result" }, r.result),
            r.edited ? el("span", { class: "learned-edited" }, " (edited)") : "",
          ),
        ),
      );
      clear.disabled = learned.count === 0;
    } catch (err) {
      count.textContent = message(err);
    }
  };
  clear.addEventListener("click", () => {
    clear.disabled = true;
    api.clear().then(
      (n) => {
        status.classList.remove("error");
        status.textContent = `Forgot ${n} example${n === 1 ? "" : "s"}; the rewrite history keeps them.`;
        void refresh();
      },
      (err: unknown) => {
        status.classList.add("error");
        status.textContent = message(err);
        clear.disabled = false;
      },
    );
  });
  tune.addEventListener("click", () => {
    tune.disabled = true;
    mode.disabled = true;
    cancel.hidden = false;
    progress.hidden = false;
    progress.removeAttribute("value");
    status.classList.remove("error");
    status.textContent = "Starting…";
    api
      .tune(mode.value as RephraseMode, (e) => {
        status.textContent = tuneProgress(e);
        if (e.stage === "training") progress.value = e.step / Math.max(1, e.steps);
        else if (e.stage === "evaluating") progress.value = e.done / Math.max(1, e.of);
        else progress.removeAttribute("value");
      })
      .then(
        (report) => {
          status.textContent = tuneSummary(report);
        },
        (err: unknown) => {
          status.classList.add("error");
          const e = err as { code?: string };
          status.textContent =
            e && e.code === "CANCELLED" ? "Tuning stopped. Tune again to carry on from where it stopped." : message(err);
        },
      )
      .finally(() => {
        tune.disabled = false;
        mode.disabled = false;
        cancel.hidden = true;
        progress.hidden = true;
      });
  });
  cancel.addEventListener("click", () => void api.cancelTune());
  void refresh();
  return el(
    "section",
    { class: "card learning", "aria-label": "Learning" },
    el("h2", {}, "Learning"),
    el("div", { class: "field" }, el("span", { class: "label" }, "From your accepted rewrites"), count, list, clear),
    el(
      "div",
      { class: "field" },
      el("label", { for: "setting-tune_mode" }, "Tune the model for a mode"),
      el("div", { class: "tune-row" }, mode, tune, cancel),
      progress,
      status,
      el(
        "p",
        { class: "hint" },
        "Trains a small adapter for one mode on this computer (a few minutes; nothing leaves it). Proofread learns from examples Pith makes itself; other modes need a larger model installed as the teacher. The adapter is kept only if it does better than the model as it is on examples it never saw.",
      ),
    ),
  );
}
