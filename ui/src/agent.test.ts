import { describe, expect, it, vi } from "vitest";
import type { AgentRun, AgentUpdate, AgentView } from "./api";
import { type AgentApi, agentPanel } from "./agent";

const run = (over: Partial<AgentRun> = {}): AgentRun => ({
  id: 7,
  task: "Rename the PDFs",
  folder: "/home/me/papers",
  status: "finished",
  answer: "Done: renamed a.pdf to Budget.pdf.",
  message: null,
  planner: "SmolLM2",
  worker: "SmolLM2",
  created_at: 0,
  steps: [
    { n: 1, tool: "list_folder", arguments: {}, effect: "read", status: "done", summary: "list_folder", output: "a.pdf", model: "SmolLM2", refused: [] },
    { n: 2, tool: "rename_file", arguments: {}, effect: "change", status: "done", summary: "Rename a.pdf to Budget.pdf", output: "renamed", model: "SmolLM2", refused: ["rename_file: the new name has words the file does not hold"] },
  ],
  changes: ["renamed a.pdf to Budget.pdf"],
  ...over,
});

const view = (over: Partial<AgentView> = {}): AgentView => ({ folders: ["/home/me/papers"], runs: [], ...over });

function api(over: Partial<AgentApi> = {}): AgentApi {
  return {
    grant: vi.fn(async () => ["/home/me/papers", "/home/me/notes"]),
    revoke: vi.fn(async () => []),
    run: vi.fn(async () => run()),
    decide: vi.fn(async () => {}),
    undo: vi.fn(async () => run({ status: "undone", changes: [], message: "undid: renamed a.pdf to Budget.pdf" })),
    ...over,
  };
}

describe("the Agent page", () => {
  it("shows a changing step with the names before and after, and sends the person's answer", async () => {
    let send: (u: AgentUpdate) => void = () => {};
    let finish: (r: AgentRun) => void = () => {};
    const a = api({
      run: vi.fn((_task: string, _folder: string, onUpdate: (u: AgentUpdate) => void) => {
        send = onUpdate;
        return new Promise<AgentRun>((resolve) => (finish = resolve));
      }),
    });
    const page = agentPanel(view(), a);
    document.body.replaceChildren(page);
    const task = page.querySelector<HTMLTextAreaElement>('[name="task"]');
    if (task) task.value = "Rename the PDFs";
    page.querySelector<HTMLFormElement>(".agent-form")?.requestSubmit();
    expect(a.run).toHaveBeenCalledWith("Rename the PDFs", "/home/me/papers", expect.any(Function));
    send({ type: "event", event: { kind: "thinking", n: 1 } });
    expect(page.querySelector(".thinking")?.textContent).toBe("Choosing step 1…");
    send({ type: "event", event: { kind: "step", step: run().steps[0] } });
    send({
      type: "proposal",
      proposal: {
        run: 7,
        n: 2,
        tool: "rename_file",
        arguments: {},
        preview: { summary: "Rename a.pdf to Budget.pdf", before: "a.pdf", after: "Budget.pdf", content: null },
        model: "SmolLM2",
      },
    });
    const card = page.querySelector(".approval");
    expect(card?.querySelector(".before")?.textContent).toBe("a.pdf");
    expect(card?.querySelector(".after")?.textContent).toBe("Budget.pdf");
    card?.querySelector<HTMLButtonElement>("button.approve")?.click();
    expect(a.decide).toHaveBeenCalledWith("approve");
    expect(page.querySelector(".approval")).toBeNull();
    finish(run());
    await vi.waitFor(() => expect(page.querySelector(".agent-history .agent-run[open] .run-answer")?.textContent).toContain("Budget.pdf"));
    // What Pith refused before the step it ran is there to review.
    expect(page.querySelector(".agent-history .step-refused")?.textContent).toContain("does not hold");
  });

  it("shows a new file's content before it is written, and Reject sends a no", () => {
    let send: (u: AgentUpdate) => void = () => {};
    const a = api({
      run: vi.fn((_t: string, _f: string, onUpdate: (u: AgentUpdate) => void) => {
        send = onUpdate;
        return new Promise<AgentRun>(() => {});
      }),
    });
    const page = agentPanel(view(), a);
    const task = page.querySelector<HTMLTextAreaElement>('[name="task"]');
    if (task) task.value = "Make a to-do list";
    page.querySelector<HTMLFormElement>(".agent-form")?.requestSubmit();
    send({
      type: "proposal",
      proposal: { run: 1, n: 3, tool: "write_file", arguments: {}, preview: { summary: "Write a new file, todo.md", before: null, after: "todo.md", content: "- [ ] Send the invoice" }, model: "m" },
    });
    expect(page.querySelector(".approval .content")?.textContent).toBe("- [ ] Send the invoice");
    page.querySelector<HTMLButtonElement>(".approval button.reject")?.click();
    expect(a.decide).toHaveBeenCalledWith("reject");
  });

  it("undoes a past run and shows it undone, or says why not", async () => {
    const a = api();
    const page = agentPanel(view({ runs: [run()] }), a);
    page.querySelector<HTMLButtonElement>(".undo-run")?.click();
    expect(a.undo).toHaveBeenCalledWith(7);
    await vi.waitFor(() => expect(page.querySelector(".agent-run .run-status")?.textContent).toBe("undone"));
    expect(page.querySelector(".undo-run")).toBeNull();

    const refused = api({ undo: vi.fn(async () => Promise.reject({ code: "invalid_input", message: "a.pdf changed since the run" })) });
    const again = agentPanel(view({ runs: [run()] }), refused);
    again.querySelector<HTMLButtonElement>(".undo-run")?.click();
    await vi.waitFor(() => expect(again.querySelector(".undo-status")?.textContent).toBe("a.pdf changed since the run"));
  });

  it("asks for a folder before anything can run, and lists the one granted", async () => {
    const a = api();
    const page = agentPanel(view({ folders: [] }), a);
    expect(page.querySelector(".run-agent")?.hasAttribute("disabled")).toBe(true);
    expect(page.querySelector(".grant-status")?.textContent).toContain("grant one");
    page.querySelector<HTMLButtonElement>(".grant")?.click();
    await vi.waitFor(() => expect(page.querySelectorAll(".granted li").length).toBe(2));
    expect(page.querySelector(".run-agent")?.hasAttribute("disabled")).toBe(false);
  });

  it("refuses an empty task without calling the app", () => {
    const a = api();
    const page = agentPanel(view(), a);
    page.querySelector<HTMLFormElement>(".agent-form")?.requestSubmit();
    expect(a.run).not.toHaveBeenCalled();
    expect(page.querySelector(".agent-live .error")?.textContent).toBe("Write a task first.");
  });
});
