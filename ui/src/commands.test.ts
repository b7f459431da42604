import { describe, expect, it, vi } from "vitest";
import type { CommandRun, CommandsView, CustomCommand } from "./api";
import { type CommandsApi, commandsPanel, fromForm, resultView } from "./commands";

const view = (commands: CustomCommand[] = []): CommandsView => ({
  builtin: [
    { name: "action-items", description: "A checklist" },
    { name: "event", description: "A calendar event" },
    { name: "reply", description: "A reply" },
  ],
  commands,
  models: ["SmolLM2-135M-Instruct.Q4_1"],
  hotkey: "Ctrl+Alt+R",
});

const run = (over: Partial<CommandRun["result"]> = {}): CommandRun => ({
  result: { command: "x", text: "out", value: null, problems: [], notes: [], model: "m", escalated: false, todo_txt: null, event: null, ...over },
  conversation_id: null,
  saved_to: null,
});

function api(over: Partial<CommandsApi> = {}): CommandsApi {
  return {
    save: vi.fn(async (c: CustomCommand[]) => c.map((x) => ({ ...x, hotkey: x.hotkey?.replace("ctrl", "Ctrl") }))),
    run: vi.fn(async () => run()),
    stop: vi.fn(async () => {}),
    openFile: vi.fn(async () => null),
    saveEvent: vi.fn(async () => "/tmp/e.ics"),
    exportAll: vi.fn(async () => null),
    importAll: vi.fn(async () => null),
    openConversation: vi.fn(),
    ...over,
  };
}

function set(root: HTMLElement, name: string, value: string): void {
  const input = root.querySelector<HTMLInputElement>(`[name="${name}"]`);
  if (!input) throw new Error(name);
  input.value = value;
  input.dispatchEvent(new Event("change"));
}

describe("the Commands page", () => {
  it("creates a command from the form and saves the whole list", async () => {
    const a = api();
    const page = commandsPanel(view(), a);
    document.body.replaceChildren(page);
    page.querySelector<HTMLElement>(".new-command")?.click();
    set(page, "name", "to-french");
    const instruction = page.querySelector<HTMLTextAreaElement>('[name="instruction"]');
    if (instruction) instruction.value = "Translate into French: {text}";
    set(page, "output", "clipboard");
    set(page, "hotkey", "ctrl+alt+t");
    page.querySelector<HTMLFormElement>(".command-form")?.requestSubmit();
    await vi.waitFor(() => expect(page.querySelector(".commands-status")?.textContent).toBe("Saved to-french."));
    expect(a.save).toHaveBeenCalledWith([
      { name: "to-french", instruction: "Translate into French: {text}", input: "clipboard", output: "clipboard", folder: undefined, model: undefined, schema: undefined, hotkey: "ctrl+alt+t" },
    ]);
    expect(page.querySelector('[data-name="to-french"] kbd')?.textContent).toBe("Ctrl+alt+t");
    expect([...page.querySelectorAll<HTMLOptionElement>('[name="command"] option')].map((o) => o.value)).toEqual([
      "action-items",
      "event",
      "reply",
      "to-french",
    ]);
  });

  it("shows a refusal and keeps the form open", async () => {
    const a = api({ save: vi.fn(async () => Promise.reject({ code: "INVALID_INPUT", message: "the instruction of \"x\" has no {text}" })) });
    const page = commandsPanel(view(), a);
    document.body.replaceChildren(page);
    page.querySelector<HTMLElement>(".new-command")?.click();
    set(page, "name", "x");
    page.querySelector<HTMLFormElement>(".command-form")?.requestSubmit();
    await vi.waitFor(() => expect(page.querySelector(".commands-status")?.textContent).toContain("has no {text}"));
    expect(page.querySelector(".command-form")).not.toBeNull();
    expect(page.querySelector(".commands-status")?.classList.contains("error")).toBe(true);
  });

  it("reads only the folder of a folder output", () => {
    const form = document.createElement("form");
    form.innerHTML = '<input name="name" value=" notes "><textarea name="instruction">{text}</textarea><select name="input"><option value="file" selected></option></select><select name="output"><option value="popup" selected></option></select><input name="folder" value="/tmp"><select name="model"><option value="" selected></option></select><textarea name="schema"></textarea><input name="hotkey" value="">';
    expect(fromForm(form)).toMatchObject({ name: "notes", input: "file", output: "popup", folder: undefined, hotkey: undefined });
  });
});

describe("results", () => {
  it("asks for the day an event's text does not give, and saves it once given", async () => {
    const a = api();
    const node = resultView(
      run({
        command: "event",
        text: "",
        notes: ["the date \u201cnext week\u201d does not say which day"],
        event: { title: "Budget", date_text: "next week", time_text: null, location: null, date: null, time: null, duration_minutes: 60 },
      }),
      a,
    );
    document.body.replaceChildren(node);
    const save = node.querySelector<HTMLButtonElement>(".save-event");
    expect(save?.disabled).toBe(true);
    expect(node.textContent).toContain("The text says \u201cnext week\u201d. Which day is it?");
    const day = node.querySelector<HTMLInputElement>('[name="event-date"]');
    if (day) {
      day.value = "2026-12-09";
      day.dispatchEvent(new Event("input"));
    }
    expect(save?.disabled).toBe(false);
    node.querySelector<HTMLFormElement>(".event-form")?.requestSubmit();
    await vi.waitFor(() => expect(a.saveEvent).toHaveBeenCalledWith(expect.objectContaining({ date: "2026-12-09", time: null })));
  });

  it("shows a flagged result's problems and a checklist with its todo.txt", () => {
    const flagged = resultView(run({ problems: ["the model returned nothing"] }), api());
    expect(flagged.dataset.ok).toBe("false");
    expect(flagged.querySelector(".problems")?.textContent).toBe("the model returned nothing");
    const items = resultView(run({ command: "action-items", text: "- [ ] Book the room (Tom)\n", todo_txt: "Book the room @Tom\n", value: { items: [{}] } }), api());
    expect(items.querySelector(".checklist")?.textContent).toBe("- [ ] Book the room (Tom)\n");
    expect(items.querySelector(".todo-txt")?.textContent).toBe("Book the room @Tom\n");
  });
});
