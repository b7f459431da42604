// The Commands page: run a built-in workflow (action items, a calendar
// event, a reply) or one of the user's commands on a text or a file, and
// create, edit, try, delete, import and export the user's commands. Pure
// DOM from plain data; what it calls comes in as `CommandsApi`.
import type {
  ChosenFile,
  CommandRun,
  CommandsView,
  CustomCommand,
  ErrorPayload,
  EventDraft,
  Imported,
  Input,
  Output,
  Tone,
} from "./api";
import { el } from "./dom";

export interface CommandsApi {
  save(commands: CustomCommand[]): Promise<CustomCommand[]>;
  run(
    name: string,
    text: string,
    onPiece: (piece: string) => void,
    options: { command?: CustomCommand; file?: ChosenFile; tone?: Tone; deliver?: boolean },
  ): Promise<CommandRun>;
  stop(): Promise<void>;
  openFile(): Promise<ChosenFile | null>;
  saveEvent(draft: EventDraft): Promise<string | null>;
  exportAll(): Promise<string | null>;
  importAll(): Promise<Imported | null>;
  openConversation(id: number): void;
}

const INPUTS: [Input, string][] = [
  ["clipboard", "The clipboard"],
  ["file", "A file I choose"],
  ["conversation", "The open conversation"],
];

const OUTPUTS: [Output, string][] = [
  ["popup", "The popup, with the changes marked"],
  ["clipboard", "Straight onto the clipboard"],
  ["folder", "A new file in a folder"],
  ["conversation", "A new conversation"],
];

function message(e: unknown): string {
  return typeof e === "object" && e !== null && "message" in e ? String((e as ErrorPayload).message) : String(e);
}

function field(label: string, control: HTMLElement, hint = ""): HTMLElement {
  const id = `command-${control.getAttribute("name")}`;
  control.id = id;
  return el("div", { class: "field" }, el("label", { for: id }, label), control, ...(hint ? [el("p", { class: "hint" }, hint)] : []));
}

function select(name: string, options: [string, string][], value: string): HTMLSelectElement {
  const s = el("select", { name });
  for (const [v, label] of options) s.append(el("option", { value: v }, label));
  s.value = value;
  return s;
}

/** A command as the form holds it: empty options left out. */
export function fromForm(form: HTMLFormElement): CustomCommand {
  const value = (name: string) => (form.elements.namedItem(name) as HTMLInputElement | null)?.value.trim() ?? "";
  const optional = (name: string) => value(name) || undefined;
  return {
    name: value("name"),
    instruction: (form.elements.namedItem("instruction") as HTMLTextAreaElement).value,
    input: value("input") as Input,
    output: value("output") as Output,
    folder: value("output") === "folder" ? optional("folder") : undefined,
    model: optional("model"),
    schema: optional("schema"),
    hotkey: optional("hotkey"),
  };
}

/** What a run produced: the checklist, the event to complete, the reply. */
export function resultView(run: CommandRun, api: Pick<CommandsApi, "saveEvent" | "openConversation">): HTMLElement {
  const r = run.result;
  const node = el("div", { class: "command-result", "data-command": r.command, "data-ok": String(r.problems.length === 0) });
  if (r.problems.length) {
    node.append(
      el("p", { class: "error", role: "alert" }, "This result failed Pith's check, so it is not used:"),
      el("ul", { class: "problems" }, ...r.problems.map((p) => el("li", {}, p))),
    );
  }
  if (r.event) {
    node.append(eventForm(r.event, api.saveEvent));
  } else if (r.todo_txt !== null) {
    const items = (r.value as { items?: unknown[] } | null)?.items ?? [];
    node.append(
      items.length ? el("pre", { class: "result-text checklist" }, r.text) : el("p", { class: "muted" }, "No action items found."),
    );
    if (items.length) node.append(el("details", {}, el("summary", {}, "todo.txt"), el("pre", { class: "result-text todo-txt" }, r.todo_txt)));
  } else {
    node.append(el("pre", { class: "result-text" }, r.text));
  }
  if (r.notes.length) node.append(el("ul", { class: "notes muted" }, ...r.notes.map((n) => el("li", {}, n))));
  const by = el("p", { class: "hint" }, `By ${r.model}${r.escalated ? " (the smaller model's result did not pass the check)" : ""}.`);
  node.append(by);
  if (run.saved_to) node.append(el("p", { class: "notice" }, `Saved to ${run.saved_to}`));
  if (run.conversation_id !== null) {
    const open = el("button", { type: "button", class: "open-conversation" }, "Open the conversation");
    const id = run.conversation_id;
    open.addEventListener("click", () => api.openConversation(id));
    node.append(open);
  }
  return node;
}

/** The event as found, with the day and hour to give when the text does not say them. */
function eventForm(draft: EventDraft, save: (d: EventDraft) => Promise<string | null>): HTMLElement {
  const title = el("input", { name: "event-title", type: "text" });
  title.value = draft.title;
  const date = el("input", { name: "event-date", type: "date" });
  date.value = draft.date ?? "";
  const time = el("input", { name: "event-time", type: "time" });
  time.value = draft.time ?? "";
  const place = el("input", { name: "event-location", type: "text" });
  place.value = draft.location ?? "";
  const status = el("p", { class: "settings-status", role: "status" });
  const button = el("button", { type: "submit", class: "primary save-event" }, "Save .ics…");
  const said = (what: string, text: string | null) => (text ? `The text says \u201c${text}\u201d.` : `The text gives no ${what}.`);
  const form = el(
    "form",
    { class: "event-form", "aria-label": "Event" },
    field("Title", title),
    field("Day", date, draft.date ? said("day", draft.date_text) : `${said("day", draft.date_text)} Which day is it?`),
    field("Time", time, draft.time ? said("time", draft.time_text) : `${said("time", draft.time_text)} Leave it empty for an all-day event.`),
    field("Place", place),
    el("div", { class: "settings-foot" }, status, button),
  );
  const sync = () => (button.disabled = !date.value);
  date.addEventListener("input", sync);
  sync();
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const done: EventDraft = {
      ...draft,
      title: title.value.trim(),
      date: date.value || null,
      time: time.value || null,
      location: place.value.trim() || null,
    };
    status.classList.remove("error");
    save(done).then(
      (path) => (status.textContent = path ? `Saved to ${path}` : ""),
      (err: unknown) => {
        status.classList.add("error");
        status.textContent = message(err);
      },
    );
  });
  return form;
}

/** The page. `view` is what Rust sent; the list is saved whole on each change. */
export function commandsPanel(view: CommandsView, api: CommandsApi): HTMLElement {
  let commands = [...view.commands];
  let file: ChosenFile | null = null;

  // Running.
  const which = el("select", { name: "command" });
  const tone = select("tone", [["friendly", "Friendly"], ["professional", "Professional"]], "friendly");
  const toneField = field("Tone", tone);
  const text = el("textarea", { name: "text", rows: "6", placeholder: "Paste a note, an email or a message here, or open a file." });
  const fileLine = el("p", { class: "hint file-line" });
  const openButton = el("button", { type: "button", class: "open-input" }, "Open file…");
  const runButton = el("button", { type: "submit", class: "primary run-command" }, "Run");
  const stopButton = el("button", { type: "button", class: "stop-command" }, "Stop");
  stopButton.hidden = true;
  const output = el("div", { class: "command-output", "aria-live": "polite" });
  const fillWhich = () => {
    const keep = which.value;
    which.replaceChildren(
      el("optgroup", { label: "Built in" }, ...view.builtin.map((b) => el("option", { value: b.name, title: b.description }, b.name))),
      ...(commands.length ? [el("optgroup", { label: "Yours" }, ...commands.map((c) => el("option", { value: c.name }, c.name)))] : []),
    );
    if (keep && [...which.options].some((o) => o.value === keep)) which.value = keep;
    toneField.hidden = which.value !== "reply";
  };
  which.addEventListener("change", () => (toneField.hidden = which.value !== "reply"));
  openButton.addEventListener("click", () => {
    api.openFile().then(
      (f) => {
        file = f;
        fileLine.textContent = f ? `${f.name} (the text box is ignored while a file is chosen)` : "";
      },
      (e: unknown) => output.replaceChildren(el("p", { class: "error", role: "alert" }, message(e))),
    );
  });
  stopButton.addEventListener("click", () => void api.stop());
  const runForm = el(
    "form",
    { class: "card command-run", "aria-label": "Run a command" },
    el("h2", {}, "Commands"),
    el("p", { class: "hint" }, "Small, well-shaped jobs for a small model: each result is checked against your text before it is used."),
    field("Command", which),
    toneField,
    field("Text", text),
    fileLine,
    el("div", { class: "settings-foot" }, openButton, el("span", {}), stopButton, runButton),
    output,
  );
  runForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const stream = el("pre", { class: "result-text streaming" });
    output.replaceChildren(el("p", { class: "muted" }, "Working…"), stream);
    runButton.disabled = true;
    stopButton.hidden = false;
    api
      .run(which.value, text.value, (p) => (stream.textContent += p), {
        file: file ?? undefined,
        tone: tone.value as Tone,
        deliver: true,
      })
      .then(
        (run) => output.replaceChildren(resultView(run, api)),
        (err: unknown) => output.replaceChildren(el("p", { class: "error", role: "alert" }, message(err))),
      )
      .finally(() => {
        runButton.disabled = false;
        stopButton.hidden = true;
      });
  });

  // The user's commands.
  const list = el("ul", { class: "command-list" });
  const status = el("p", { class: "settings-status commands-status", role: "status" });
  const editor = el("div", { class: "command-editor" });
  const showStatus = (t: string, error = false) => {
    status.textContent = t;
    status.classList.toggle("error", error);
  };
  const draw = () => {
    fillWhich();
    list.replaceChildren(
      ...(commands.length
        ? commands.map((c) => {
            const edit = el("button", { type: "button", "data-edit": c.name }, "Edit");
            const del = el("button", { type: "button", "data-delete": c.name }, "Delete");
            return el(
              "li",
              { class: "command-item", "data-name": c.name },
              el("div", {}, el("strong", {}, c.name), c.hotkey ? el("kbd", {}, c.hotkey) : "", el("p", { class: "hint" }, c.instruction.split("\n")[0] ?? "")),
              el("div", { class: "command-buttons" }, edit, del),
            );
          })
        : [el("li", { class: "muted" }, "No commands of your own yet. A command is an instruction with {text} where the text goes, run from its own shortcut.")]),
    );
  };
  const persist = (next: CustomCommand[], done: string): Promise<boolean> =>
    api.save(next).then(
      (stored) => {
        commands = stored;
        draw();
        showStatus(done);
        return true;
      },
      (err: unknown) => {
        showStatus(message(err), true);
        return false;
      },
    );

  const openEditor = (c: CustomCommand | null) => {
    const name = el("input", { name: "name", type: "text", autocomplete: "off", spellcheck: "false", placeholder: "to-french" });
    name.value = c?.name ?? "";
    const instruction = el("textarea", { name: "instruction", rows: "3", placeholder: "Translate into French: {text}" });
    instruction.value = c?.instruction ?? "";
    const input = select("input", INPUTS, c?.input ?? "clipboard");
    const out = select("output", OUTPUTS, c?.output ?? "popup");
    const folder = el("input", { name: "folder", type: "text", spellcheck: "false", placeholder: "/home/me/Notes" });
    folder.value = c?.folder ?? "";
    const folderField = field("Folder", folder, "New files go here; it must exist and be writable.");
    const model = select("model", [["", "Automatic (the router's choice)"], ...view.models.map((m): [string, string] => [m, m])], c?.model ?? "");
    const schema = el("textarea", { name: "schema", rows: "2", spellcheck: "false", placeholder: '{"type": "object", ...} (optional)' });
    schema.value = c?.schema ?? "";
    const hotkey = el("input", { name: "hotkey", type: "text", autocomplete: "off", spellcheck: "false", placeholder: "Ctrl+Alt+T (optional)" });
    hotkey.value = c?.hotkey ?? "";
    const sample = el("textarea", { name: "sample", rows: "2", placeholder: "Sample text to try the command on" });
    const tried = el("div", { class: "command-output", "aria-live": "polite" });
    const tryButton = el("button", { type: "button", class: "try-command" }, "Try");
    const cancel = el("button", { type: "button", class: "cancel-edit" }, "Cancel");
    const save = el("button", { type: "submit", class: "primary save-command" }, "Save");
    const syncFolder = () => (folderField.hidden = out.value !== "folder");
    out.addEventListener("change", syncFolder);
    syncFolder();
    const form = el(
      "form",
      { class: "command-form", "aria-label": c ? `Edit ${c.name}` : "New command" },
      el("h3", {}, c ? `Edit ${c.name}` : "New command"),
      field("Name", name, "Lowercase letters, digits and dashes: pith run NAME."),
      field("Instruction", instruction, "Write {text} where the text goes."),
      field("Text from", input),
      field("Result to", out),
      folderField,
      field("Model", model),
      field("Output schema", schema, "A JSON Schema: the result is then JSON that follows it, checked against the text."),
      field("Shortcut", hotkey, `Runs the command from anywhere, on the text it takes from. Not ${view.hotkey}: that is the rephrase shortcut.`),
      field("Try it", sample),
      tried,
      el("div", { class: "settings-foot" }, tryButton, el("span", {}), cancel, save),
    );
    tryButton.addEventListener("click", () => {
      tried.replaceChildren(el("p", { class: "muted" }, "Trying…"));
      api.run(name.value, sample.value, () => undefined, { command: fromForm(form) }).then(
        (run) => tried.replaceChildren(resultView(run, api)),
        (err: unknown) => tried.replaceChildren(el("p", { class: "error", role: "alert" }, message(err))),
      );
    });
    cancel.addEventListener("click", () => editor.replaceChildren());
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const edited = fromForm(form);
      const next = c ? commands.map((x) => (x.name === c.name ? edited : x)) : [...commands, edited];
      void persist(next, `Saved ${edited.name}.`).then((ok) => ok && editor.replaceChildren());
    });
    editor.replaceChildren(form);
    name.focus();
  };

  list.addEventListener("click", (e) => {
    const target = e.target as HTMLElement;
    const edit = target.closest<HTMLElement>("[data-edit]")?.dataset.edit;
    const del = target.closest<HTMLElement>("[data-delete]")?.dataset.delete;
    if (edit) openEditor(commands.find((c) => c.name === edit) ?? null);
    if (del) void persist(commands.filter((c) => c.name !== del), `Deleted ${del}.`);
  });
  const newButton = el("button", { type: "button", class: "primary new-command" }, "New command");
  newButton.addEventListener("click", () => openEditor(null));
  const importButton = el("button", { type: "button", class: "import-commands" }, "Import…");
  importButton.addEventListener("click", () => {
    api.importAll().then(
      (got) => {
        if (!got) return;
        commands = got.commands;
        draw();
        showStatus(`Imported ${got.added.length} new and ${got.replaced.length} replaced.`);
      },
      (err: unknown) => showStatus(message(err), true),
    );
  });
  const exportButton = el("button", { type: "button", class: "export-commands" }, "Export…");
  exportButton.addEventListener("click", () => {
    api.exportAll().then(
      (path) => path && showStatus(`Exported to ${path}.`),
      (err: unknown) => showStatus(message(err), true),
    );
  });
  draw();
  return el(
    "section",
    { class: "commands-page" },
    runForm,
    el(
      "section",
      { class: "card command-mine", "aria-label": "Your commands" },
      el("div", { class: "command-head" }, el("h2", {}, "Your commands"), el("div", {}, importButton, exportButton, newButton)),
      list,
      editor,
      status,
    ),
  );
}
