import { describe, expect, it, vi } from "vitest";
import type { Pending, RephraseDone, RephraseEvent, RephraseMode } from "./api";
import { Popup, type PopupApi, diffView } from "./popup";

const pending = (over: Partial<Pending> = {}): Pending => ({
  id: 1,
  original: "teh cat sat",
  mode: "proofread",
  modes: ["proofread", "rewrite", "friendly", "professional", "concise", "bullets"],
  problem: null,
  commands: ["action-items", "event", "reply", "to-french"],
  command: null,
  ...over,
});

function api(over: Partial<PopupApi> = {}): PopupApi {
  return {
    pending: vi.fn(async () => null),
    run: vi.fn(async (mode: RephraseMode, _again: boolean, on: (e: RephraseEvent) => void) => {
      on({ event: "attempt", n: 1 });
      on({ event: "piece", text: "the cat" });
      on({ event: "piece", text: " sat" });
      return { text: "the cat sat", mode, unchanged: false, model: "m", escalated: false };
    }),
    accept: vi.fn(async () => {}),
    stop: vi.fn(async () => {}),
    cancel: vi.fn(async () => {}),
    summarize: vi.fn(async () => {}),
    runCommand: vi.fn(async (name: string, on: (e: RephraseEvent) => void) => {
      on({ event: "attempt", n: 1 });
      on({ event: "piece", text: "le chat" });
      return { text: "le chat", command: name, model: "m", escalated: false, notes: [], is_file: false };
    }),
    saveFile: vi.fn(async () => "/tmp/event.ics"),
    ...over,
  };
}

function mounted(a: PopupApi): [Popup, HTMLElement] {
  const root = document.createElement("div");
  document.body.replaceChildren(root);
  const popup = new Popup(a);
  popup.mount(root);
  return [popup, root];
}

const key = (k: string) => document.dispatchEvent(new KeyboardEvent("keydown", { key: k, bubbles: true }));

describe("rephrase popup", () => {
  it("streams, shows the diff, and accepts with Enter", async () => {
    const a = api();
    const [popup, root] = mounted(a);
    await popup.open(pending());
    expect(a.run).toHaveBeenCalledWith("proofread", false, expect.any(Function));
    expect(root.querySelector(".diff del")?.textContent).toBe("teh");
    expect(root.querySelector(".diff ins")?.textContent).toBe("the");
    expect(root.querySelector<HTMLElement>(".popup-result")?.dataset.text).toBe("the cat sat");
    expect(root.querySelector('[data-mode="proofread"]')?.getAttribute("aria-pressed")).toBe("true");
    expect(root.querySelectorAll("[data-mode]")).toHaveLength(6);
    key("Enter");
    await Promise.resolve();
    expect(a.accept).toHaveBeenCalledOnce();
  });

  it("lets the result be edited before it is accepted, and refuses an empty edit", async () => {
    const a = api();
    const [popup, root] = mounted(a);
    await popup.open(pending());
    root.querySelector<HTMLButtonElement>(".popup-edit")?.click();
    const editor = root.querySelector<HTMLTextAreaElement>(".popup-editor");
    expect(editor?.value).toBe("the cat sat");
    editor!.value = "  ";
    key("Enter");
    await Promise.resolve();
    expect(a.accept).not.toHaveBeenCalled();
    expect(root.querySelector(".popup-note")?.textContent).toContain("empty");
    editor!.value = "The cat sat.";
    key("Enter");
    await Promise.resolve();
    expect(a.accept).toHaveBeenCalledWith("The cat sat.");
  });

  it("accepts an unedited result as written", async () => {
    const a = api();
    const [popup, root] = mounted(a);
    await popup.open(pending());
    root.querySelector<HTMLButtonElement>(".popup-edit")?.click();
    key("Enter");
    await Promise.resolve();
    expect(a.accept).toHaveBeenCalledWith();
  });

  it("does not accept before the rewrite is finished, and Esc cancels", async () => {
    let finish: (v: RephraseDone) => void = () => {};
    const a = api({ run: vi.fn(() => new Promise<RephraseDone>((r) => (finish = r))) });
    const [popup, root] = mounted(a);
    void popup.open(pending());
    key("Enter");
    expect(a.accept).not.toHaveBeenCalled();
    expect(root.querySelector<HTMLButtonElement>(".popup-accept")?.disabled).toBe(true);
    key("Escape");
    expect(a.cancel).toHaveBeenCalledOnce();
    finish({ text: "x", mode: "proofread", unchanged: false, model: "m", escalated: false });
  });

  it("says when the larger model wrote the rewrite", async () => {
    const a = api({ run: vi.fn(async () => ({ text: "the cat sat", mode: "proofread" as const, unchanged: false, model: "qwen2.5-1.5b", escalated: true })) });
    const [popup, root] = mounted(a);
    await popup.open(pending());
    expect(root.querySelector(".popup-note")?.textContent).toContain("Written by the larger qwen2.5-1.5b");
  });

  it("says when proofreading finds nothing to change", async () => {
    const a = api({ run: vi.fn(async () => ({ text: "The cat sat.", mode: "proofread" as const, unchanged: true, model: "m", escalated: false })) });
    const [popup, root] = mounted(a);
    await popup.open(pending({ original: "The cat sat." }));
    expect(root.querySelector(".popup-note")?.textContent).toContain("No changes needed");
    expect(root.querySelector(".diff del")).toBeNull();
  });

  it("switches modes and retries for another version", async () => {
    const a = api();
    const [popup, root] = mounted(a);
    await popup.open(pending());
    root.querySelector<HTMLElement>('[data-mode="concise"]')?.click();
    await new Promise((r) => setTimeout(r, 0));
    expect(a.stop).toHaveBeenCalled();
    expect(a.run).toHaveBeenLastCalledWith("concise", false, expect.any(Function));
    root.querySelector<HTMLButtonElement>(".popup-retry")?.click();
    await new Promise((r) => setTimeout(r, 0));
    expect(a.run).toHaveBeenLastCalledWith("concise", true, expect.any(Function));
  });

  it("explains an empty clipboard and an image, and offers a summary for long text", async () => {
    const a = api();
    const [popup, root] = mounted(a);
    await popup.open(pending({ id: 2, original: "", problem: { code: "EMPTY_INPUT", message: "empty" } }));
    expect(root.querySelector(".popup-note")?.textContent).toContain("The clipboard is empty");
    expect(a.run).not.toHaveBeenCalled();
    await popup.open(pending({ id: 3, problem: { code: "INVALID_INPUT", message: "the clipboard holds an image (image/png), not text" } }));
    expect(root.querySelector(".popup-note")?.textContent).toContain("an image");
    await popup.open(pending({ id: 4, problem: { code: "CONTEXT_TOO_LONG", message: "The text is 9,000 tokens." } }));
    const summarize = root.querySelector<HTMLButtonElement>(".popup-summarize");
    expect(summarize?.hidden).toBe(false);
    summarize?.click();
    expect(a.summarize).toHaveBeenCalledOnce();
  });

  it("renders the texts inert", () => {
    const view = diffView("<b>x</b>", '<img src="http://e/x.png">');
    expect(view.querySelector("img")).toBeNull();
    expect(view.textContent).toContain("<img");
  });
});

describe("commands in the popup", () => {
  it("lists the commands beside the modes and runs one when its button is pressed", async () => {
    const a = api();
    const [popup, root] = mounted(a);
    await popup.open(pending());
    const buttons = [...root.querySelectorAll<HTMLElement>("[data-command]")].map((b) => b.textContent);
    expect(buttons).toEqual(["action-items", "event", "reply", "to-french"]);
    root.querySelector<HTMLElement>('[data-command="to-french"]')?.click();
    await vi.waitFor(() => expect(root.querySelector<HTMLElement>(".popup-result")?.dataset.text).toBe("le chat"));
    expect(a.runCommand).toHaveBeenCalledWith("to-french", expect.any(Function));
    expect(root.querySelector('[data-command="to-french"]')?.getAttribute("aria-pressed")).toBe("true");
    key("Enter");
    await vi.waitFor(() => expect(a.accept).toHaveBeenCalled());
  });

  it("runs the command its shortcut named at once, and saves a file result instead of copying it", async () => {
    const a = api({
      runCommand: vi.fn(async () => ({ text: "BEGIN:VCALENDAR", command: "event", model: "m", escalated: false, notes: [], is_file: true })),
    });
    const [popup, root] = mounted(a);
    await popup.open(pending({ command: "event" }));
    expect(a.run).not.toHaveBeenCalled();
    expect(root.querySelector(".popup-accept")?.textContent).toBe("Save…");
    key("Enter");
    await vi.waitFor(() => expect(a.saveFile).toHaveBeenCalled());
    expect(a.accept).not.toHaveBeenCalled();
  });
});
