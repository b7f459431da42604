// The Settings screen: the rephrase shortcut, the default rephrase mode,
// the theme, and where the data lives. Pure DOM from plain data.
import type { AppSettings, RephraseMode, SettingsView, Theme } from "./api";
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
