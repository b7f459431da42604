// The rephrase popup: opened by the global shortcut with the clipboard's
// text, it streams the rewrite, shows a word diff against the original, and
// lets the user accept (Enter), retry, switch modes, or cancel (Esc). The
// text itself stays in Rust; Accept asks Rust to put its own result on the
// clipboard.
import type { CommandDone, ErrorPayload, Pending, RephraseDone, RephraseEvent, RephraseMode } from "./api";
import { wordDiff } from "./diff";
import { el } from "./dom";

export interface PopupApi {
  pending(): Promise<Pending | null>;
  run(mode: RephraseMode, again: boolean, onEvent: (e: RephraseEvent) => void): Promise<RephraseDone>;
  /** `edited`: the result as the user changed it before accepting. */
  accept(edited?: string): Promise<void>;
  stop(): Promise<void>;
  cancel(): Promise<void>;
  summarize(): Promise<void>;
  /** Runs a command (a workflow or the user's) on the pending text. */
  runCommand(name: string, onEvent: (e: RephraseEvent) => void): Promise<CommandDone>;
  /** Accept for a result that is a file: saved where the user picks. */
  saveFile(): Promise<string | null>;
}

function isError(e: unknown): e is ErrorPayload {
  return typeof e === "object" && e !== null && "code" in e && "message" in e;
}

const MODE_LABELS: Record<string, string> = {
  proofread: "Proofread",
  rewrite: "Rewrite",
  friendly: "Friendly",
  professional: "Professional",
  concise: "Concise",
  bullets: "Bullet points",
};

/** The diff as nodes: removed words struck through, added ones marked,
 * the texts' own spacing and line breaks kept. */
export function diffView(before: string, after: string): HTMLElement {
  const node = el("p", { class: "diff" });
  for (const part of wordDiff(before, after)) {
    const text = part.text;
    if (part.op === "same") node.append(text);
    else if (part.op === "del") node.append(el("del", {}, text));
    else node.append(el("ins", {}, text));
  }
  return node;
}

export class Popup {
  private current: Pending | null = null;
  private mode: RephraseMode = "rewrite";
  /** The command shown instead of a mode, if any. */
  private command: string | null = null;
  /** The result shown is a file to save, not text for the clipboard. */
  private isFile = false;
  private ready = false;
  private readonly modes = el("div", { class: "modes", role: "group", "aria-label": "Mode" });
  private readonly result = el("div", { class: "popup-result", "aria-live": "polite", "aria-label": "Result" });
  private readonly note = el("p", { class: "popup-note", role: "status" });
  private readonly accept = el("button", { type: "button", class: "primary popup-accept" }, "Accept");
  private readonly retry = el("button", { type: "button", class: "popup-retry" }, "Retry");
  private readonly cancel = el("button", { type: "button", class: "popup-cancel" }, "Cancel");
  private readonly summarize = el("button", { type: "button", class: "popup-summarize" }, "Summarize instead");
  private readonly edit = el("button", { type: "button", class: "popup-edit" }, "Edit");
  /** The result being edited (shown in place of the diff), if any. */
  private editor: HTMLTextAreaElement | null = null;

  constructor(private readonly api: PopupApi) {}

  mount(root: HTMLElement): void {
    document.title = "Pith — Rephrase";
    this.accept.title = "Put the result on the clipboard (Enter)";
    this.cancel.title = "Close and leave the clipboard as it was (Esc)";
    this.accept.addEventListener("click", () => void this.doAccept());
    this.retry.addEventListener("click", () => void (this.command ? this.runCommand(this.command) : this.run(this.mode, true)));
    this.cancel.addEventListener("click", () => void this.api.cancel());
    this.summarize.addEventListener("click", () => void this.api.summarize());
    this.edit.title = "Change the result before accepting it (accepted edits teach Pith)";
    this.edit.addEventListener("click", () => this.startEditing());
    this.modes.addEventListener("click", (e) => {
      const m = (e.target as HTMLElement).closest<HTMLElement>("[data-mode]")?.dataset.mode as RephraseMode | undefined;
      const c = (e.target as HTMLElement).closest<HTMLElement>("[data-command]")?.dataset.command;
      if (m && (m !== this.mode || this.command)) void this.switchMode(m);
      else if (c && c !== this.command) void this.switchCommand(c);
    });
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        e.preventDefault();
        void this.api.cancel();
      } else if (e.key === "Enter" && !e.shiftKey && !(e.target instanceof HTMLButtonElement && e.target !== this.accept)) {
        e.preventDefault();
        void this.doAccept();
      }
    });
    root.replaceChildren(
      el(
        "div",
        { class: "popup" },
        this.modes,
        this.result,
        this.note,
        el("div", { class: "popup-actions" }, this.summarize, this.cancel, this.edit, this.retry, this.accept),
      ),
    );
    this.summarize.hidden = true;
    this.setReady(false);
  }

  /** A request from the hotkey (a new press replaces what is shown). */
  async open(p: Pending): Promise<void> {
    if (this.current?.id === p.id) return;
    this.current = p;
    this.mode = p.mode;
    this.command = p.command;
    this.modes.replaceChildren(
      ...p.modes.map((m) =>
        el("button", { type: "button", class: "mode", "data-mode": m, "aria-pressed": String(!p.command && m === p.mode) }, MODE_LABELS[m] ?? m),
      ),
      ...p.commands.map((c) =>
        el("button", { type: "button", class: "mode command", "data-command": c, "aria-pressed": String(c === p.command) }, c),
      ),
    );
    this.summarize.hidden = true;
    if (p.problem) {
      this.result.replaceChildren();
      this.showProblem(p.problem);
      return;
    }
    if (p.command) await this.runCommand(p.command);
    else await this.run(p.mode, false);
  }

  private showProblem(e: ErrorPayload): void {
    this.setReady(false);
    this.retry.disabled = e.code === "EMPTY_INPUT" || e.code === "INVALID_INPUT" || e.code === "CONTEXT_TOO_LONG";
    this.note.classList.add("error");
    this.note.textContent =
      e.code === "EMPTY_INPUT"
        ? "The clipboard is empty. Copy some text, then press the shortcut again."
        : e.code === "CONTEXT_TOO_LONG"
          ? `${e.message} Summarize it instead?`
          : e.message;
    this.summarize.hidden = e.code !== "CONTEXT_TOO_LONG";
    this.cancel.textContent = "Close";
    (this.summarize.hidden ? this.cancel : this.summarize).focus();
  }

  private setReady(ready: boolean): void {
    this.ready = ready;
    this.accept.disabled = !ready;
    this.retry.disabled = !ready;
    this.edit.disabled = !ready || this.isFile;
    if (!ready) this.editor = null;
  }

  /** The result as an editable text in place of the diff. */
  private startEditing(): void {
    if (!this.ready || this.isFile || this.editor) return;
    const editor = el("textarea", { class: "popup-editor", "aria-label": "Edit the result", rows: "4" });
    editor.value = this.result.dataset.text ?? "";
    this.result.replaceChildren(editor);
    this.editor = editor;
    this.edit.disabled = true;
    this.note.textContent = "Edit the result · Enter accepts the edited text · Shift+Enter starts a new line · Esc cancels";
    editor.focus();
  }

  private press(mode: string | null, command: string | null): void {
    for (const b of this.modes.querySelectorAll<HTMLElement>("button")) {
      const on = command ? b.dataset.command === command : b.dataset.mode === mode;
      b.setAttribute("aria-pressed", String(on));
    }
  }

  private async switchCommand(name: string): Promise<void> {
    this.press(null, name);
    await this.api.stop();
    await this.runCommand(name);
  }

  /** Runs a command on the pending text; its result is shown like a rewrite. */
  async runCommand(name: string): Promise<void> {
    const p = this.current;
    if (!p || p.problem) return;
    this.command = name;
    this.setReady(false);
    this.cancel.textContent = "Cancel";
    this.note.classList.remove("error");
    this.note.textContent = `Running ${name}…`;
    const stream = el("p", { class: "streaming" });
    this.result.replaceChildren(stream);
    try {
      const done = await this.api.runCommand(name, (e) => {
        if (e.event === "attempt") stream.textContent = "";
        else stream.textContent += e.text;
      });
      if (this.current !== p || this.command !== name) return;
      this.isFile = done.is_file;
      this.result.replaceChildren(done.is_file ? el("pre", { class: "file-result" }, done.text) : diffView(p.original, done.text));
      this.result.dataset.text = done.text;
      this.accept.textContent = done.is_file ? "Save…" : "Accept";
      const notes = done.notes.length ? `${done.notes.join("; ")} · ` : "";
      this.note.textContent = `${notes}${done.escalated ? `Written by the larger ${done.model} · ` : ""}Enter ${done.is_file ? "saves" : "accepts"} · Esc cancels`;
      this.setReady(true);
      this.accept.focus();
    } catch (e) {
      if (this.current !== p || this.command !== name) return;
      if (isError(e) && e.code === "CANCELLED") return;
      this.showProblem(isError(e) ? e : { code: "INFERENCE", message: String(e) });
      this.retry.disabled = false;
    }
  }

  private async switchMode(mode: RephraseMode): Promise<void> {
    this.press(mode, null);
    this.command = null;
    await this.api.stop();
    await this.run(mode, false);
  }

  async run(mode: RephraseMode, again: boolean): Promise<void> {
    const p = this.current;
    if (!p || p.problem) return;
    this.mode = mode;
    this.command = null;
    this.isFile = false;
    this.accept.textContent = "Accept";
    this.setReady(false);
    this.cancel.textContent = "Cancel";
    this.note.classList.remove("error");
    this.note.textContent = "Writing…";
    const stream = el("p", { class: "streaming" });
    this.result.replaceChildren(stream);
    this.result.focus();
    try {
      const done = await this.api.run(mode, again, (e) => {
        if (e.event === "attempt") stream.textContent = "";
        else stream.textContent += e.text;
      });
      if (this.current !== p || this.mode !== mode || this.command) return;
      this.result.replaceChildren(diffView(p.original, done.text));
      this.result.dataset.text = done.text;
      this.note.textContent = done.unchanged
        ? "No changes needed: the text reads well as it is."
        : done.escalated
          ? `Written by the larger ${done.model} (the default model's rewrite did not pass the check) · Enter accepts · Esc cancels`
          : "Enter accepts · Esc cancels";
      this.setReady(true);
      this.accept.focus();
    } catch (e) {
      if (this.current !== p || this.mode !== mode) return;
      if (isError(e) && e.code === "CANCELLED") return;
      this.showProblem(isError(e) ? e : { code: "INFERENCE", message: String(e) });
      this.retry.disabled = false;
    }
  }

  private async doAccept(): Promise<void> {
    if (!this.ready) return;
    if (this.editor && this.editor.value.trim() === "") {
      this.note.classList.add("error");
      this.note.textContent = "The edited result is empty: type the text to accept, or press Esc to cancel.";
      this.editor.focus();
      return;
    }
    const edited = this.editor && this.editor.value !== this.result.dataset.text ? this.editor.value : undefined;
    this.setReady(false);
    try {
      if (this.isFile) {
        const saved = await this.api.saveFile();
        if (saved === null) {
          this.setReady(true);
          return;
        }
      } else if (edited !== undefined) {
        await this.api.accept(edited);
      } else {
        await this.api.accept();
      }
      this.current = null;
    } catch (e) {
      this.showProblem(isError(e) ? e : { code: "IO", message: String(e) });
    }
  }
}
