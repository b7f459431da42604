import { describe, expect, it, vi } from "vitest";
import type { AppSettings, SettingsView } from "./api";
import type { Learned, TuneEvent, TuneReport } from "./api";
import { applyTheme, learningPanel, settingsPanel, tuneProgress } from "./settings";

const view = (): SettingsView => ({
  app: { hotkey: "Ctrl+Alt+R", rephrase_mode: "rewrite", theme: "system", auto_paste: false, prepare_copied_text: true, learn_from_accepted: true, debug_logs: false, open_at_login: false },
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
    expect(form.querySelector<HTMLInputElement>("#setting-learn_from_accepted")?.checked).toBe(true);
    form.querySelector<HTMLInputElement>("#setting-learn_from_accepted")!.checked = false;
    form.dispatchEvent(new Event("submit"));
    await flush();
    expect(save).toHaveBeenCalledWith({
      hotkey: "ctrl+shift+p",
      rephrase_mode: "concise",
      theme: "system",
      auto_paste: true,
      prepare_copied_text: false,
      learn_from_accepted: false,
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

  it("lists what Pith learned, clears it, and tunes a mode with progress", async () => {
    const learned: Learned = {
      count: 2,
      latest: [
        { id: 2, original: "i has a cat", result: "I have a cat.", mode: "proofread", accepted: true, edited: true, model: "m", created_at: 2 },
        { id: 1, original: "hi all", result: "Hello everyone", mode: "friendly", accepted: true, edited: false, model: "m", created_at: 1 },
      ],
    };
    let events: ((e: TuneEvent) => void) | null = null;
    let finish: (r: TuneReport) => void = () => {};
    const api = {
      list: vi.fn(async () => learned),
      clear: vi.fn(async () => 2),
      tune: vi.fn((_mode: string, on: (e: TuneEvent) => void) => {
        events = on;
        return new Promise<TuneReport>((r) => (finish = r));
      }),
      cancelTune: vi.fn(async () => {}),
    };
    const card = learningPanel(view(), api);
    await flush();
    expect(card.querySelector(".learned-count")?.textContent).toContain("2 accepted rewrites");
    expect(card.querySelectorAll(".learned-list li")).toHaveLength(2);
    expect(card.querySelector(".learned-edited")?.textContent).toContain("edited");
    card.querySelector<HTMLButtonElement>(".learned-clear")!.click();
    await flush();
    expect(api.clear).toHaveBeenCalledOnce();
    expect(card.querySelector(".tune-status")?.textContent).toContain("Forgot 2 examples");

    card.querySelector<HTMLButtonElement>(".tune-start")!.click();
    expect(api.tune).toHaveBeenCalledWith("proofread", expect.any(Function));
    expect(card.querySelector<HTMLButtonElement>(".tune-cancel")?.hidden).toBe(false);
    events!({ stage: "training", step: 5, steps: 10, loss: 1.5, tokens_per_s: 160 });
    expect(card.querySelector(".tune-status")?.textContent).toBe(tuneProgress({ stage: "training", step: 5, steps: 10, loss: 1.5, tokens_per_s: 160 }));
    expect(card.querySelector<HTMLProgressElement>(".tune-progress")?.value).toBe(0.5);
    card.querySelector<HTMLButtonElement>(".tune-cancel")!.click();
    expect(api.cancelTune).toHaveBeenCalledOnce();
    const score = { pairs: 20, check_pass_rate: 1, pass_rate: 0.5, similarity: 0.9 };
    finish({
      mode: "proofread", source: "rules", train_pairs: 300, held_out_pairs: 20, refused_pairs: 0, steps: 10,
      training_tokens: 2560, tokens_per_s: 160, minutes: 3.2, kept: 0.8, base: score,
      tuned: { ...score, pass_rate: 0.7 }, gain: { pass_rate_points: 20, check_pass_rate_points: 0, similarity_points: 1 },
      installed: "/models/adapters/m--proofread.gguf",
    });
    await flush();
    expect(card.querySelector(".tune-status")?.textContent).toContain("50% → 70% (+20 points)");
    expect(card.querySelector<HTMLButtonElement>(".tune-cancel")?.hidden).toBe(true);
  });
});
