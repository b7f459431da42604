import { describe, expect, it, vi } from "vitest";
import type { AppSettings, SettingsView } from "./api";
import { applyTheme, settingsPanel } from "./settings";

const view = (): SettingsView => ({
  app: { hotkey: "Ctrl+Alt+R", rephrase_mode: "rewrite", theme: "system", auto_paste: false, prepare_copied_text: true, debug_logs: false, open_at_login: false },
  data_dir: "/home/me/.local/share/pith",
  log_dir: "/home/me/.local/share/pith/logs",
  modes: ["proofread", "rewrite", "friendly", "professional", "concise", "bullets"],
});

const flush = () => new Promise((r) => setTimeout(r, 0));

describe("settings", () => {
  it("shows the current settings and where the data lives, every control labelled", () => {
    const form = settingsPanel(view(), vi.fn());
    expect(form.querySelector<HTMLInputElement>("#setting-hotkey")?.value).toBe("Ctrl+Alt+R");
    expect(form.querySelector<HTMLSelectElement>("#setting-rephrase_mode")?.value).toBe("rewrite");
    expect(form.querySelectorAll("#setting-rephrase_mode option")).toHaveLength(6);
    expect(form.querySelector(".data-dir")?.textContent).toBe("/home/me/.local/share/pith");
    expect(form.querySelector(".log-dir")?.textContent).toBe("/home/me/.local/share/pith/logs");
    for (const control of form.querySelectorAll("input, select")) {
      expect(form.querySelector(`label[for="${control.id}"]`), control.id).not.toBeNull();
    }
  });

  it("saves what was chosen and shows the stored form of the shortcut", async () => {
    const save = vi.fn(async (app: AppSettings) => ({ ...app, hotkey: "Ctrl+Shift+P" }));
    const form = settingsPanel(view(), save);
    form.querySelector<HTMLInputElement>("#setting-hotkey")!.value = "ctrl+shift+p";
    form.querySelector<HTMLSelectElement>("#setting-rephrase_mode")!.value = "concise";
    form.querySelector<HTMLInputElement>("#setting-auto_paste")!.checked = true;
    expect(form.querySelector<HTMLInputElement>("#setting-prepare_copied_text")?.checked).toBe(true);
    form.querySelector<HTMLInputElement>("#setting-prepare_copied_text")!.checked = false;
    form.querySelector<HTMLInputElement>("#setting-debug_logs")!.checked = true;
    form.dispatchEvent(new Event("submit"));
    await flush();
    expect(save).toHaveBeenCalledWith({
      hotkey: "ctrl+shift+p",
      rephrase_mode: "concise",
      theme: "system",
      auto_paste: true,
      prepare_copied_text: false,
      debug_logs: true,
      open_at_login: false,
    });
    expect(form.querySelector<HTMLInputElement>("#setting-hotkey")?.value).toBe("Ctrl+Shift+P");
    expect(form.querySelector(".settings-status")?.textContent).toBe("Saved.");
  });

  it("shows why a shortcut was refused", async () => {
    const save = vi.fn(() => Promise.reject({ code: "INVALID_INPUT", message: 'the shortcut "r" needs Ctrl, Alt or Super' }));
    const form = settingsPanel(view(), save);
    form.dispatchEvent(new Event("submit"));
    await flush();
    const status = form.querySelector(".settings-status");
    expect(status?.textContent).toContain("needs Ctrl, Alt or Super");
    expect(status?.classList.contains("error")).toBe(true);
  });

  it("previews the theme as it is picked and follows the desktop by default", () => {
    const root = document.createElement("html");
    applyTheme("dark", root);
    expect(root.dataset.theme).toBe("dark");
    applyTheme("system", root);
    expect(root.dataset.theme).toBeUndefined();
    const form = settingsPanel(view(), vi.fn());
    const theme = form.querySelector<HTMLSelectElement>("#setting-theme")!;
    theme.value = "light";
    theme.dispatchEvent(new Event("change"));
    expect(document.documentElement.dataset.theme).toBe("light");
    applyTheme("system");
  });
});
