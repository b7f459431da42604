// The Agent page: a task on the files of a granted folder, done in steps.
// Every step that changes something is shown first — the names before and
// after, a new file's content — and runs only when approved; a run can be
// undone. Pure DOM from plain data; what it calls comes in as `AgentApi`.
import type { AgentDecision, AgentRun, AgentStep, AgentUpdate, AgentView, ErrorPayload, Proposal } from "./api";
import { el } from "./dom";

export interface AgentApi {
  grant(): Promise<string[]>;
  revoke(folder: string): Promise<string[]>;
  run(task: string, folder: string, onUpdate: (u: AgentUpdate) => void): Promise<AgentRun>;
  decide(decision: AgentDecision): Promise<void>;
  undo(run: number): Promise<AgentRun>;
}

function message(e: unknown): string {
  return typeof e === "object" && e !== null && "message" in e ? String((e as ErrorPayload).message) : String(e);
}

const STATUS: Record<AgentStep["status"], string> = { done: "done", rejected: "rejected", failed: "failed" };

const RUN_STATUS: Record<AgentRun["status"], string> = {
  running: "running",
  finished: "finished",
  failed: "ended without finishing",
  cancelled: "stopped",
  undone: "undone",
};

/** One step as a list item: its number, what it did, how it went. */
export function stepItem(step: AgentStep): HTMLElement {
  const head = el(
    "div",
    { class: "step-head" },
    el("span", { class: "step-n" }, `${step.n}.`),
    el("span", { class: "step-summary" }, step.summary),
    el("span", { class: `badge step-${step.status}` }, STATUS[step.status]),
  );
  const item = el("li", { class: `agent-step ${step.effect}`, "data-tool": step.tool }, head);
  if (step.output.trim()) {
    item.append(el("pre", { class: "step-output" }, step.output));
  }
  for (const why of step.refused) item.append(el("p", { class: "step-refused hint" }, `Refused first: ${why}`));
  item.append(el("p", { class: "step-model hint" }, step.model));
  return item;
}

/** The approval card for a step that changes something. */
export function approvalCard(p: Proposal, decide: (d: AgentDecision) => void): HTMLElement {
  const card = el(
    "section",
    { class: "approval", role: "dialog", "aria-label": `Approve step ${p.n}` },
    el("h3", {}, `Step ${p.n} wants to: ${p.preview.summary}`),
  );
  if (p.preview.before || p.preview.after) {
    card.append(
      el(
        "p",
        { class: "rename" },
        el("span", { class: "before" }, p.preview.before ?? "(new)"),
        el("span", { class: "arrow", "aria-hidden": "true" }, " → "),
        el("span", { class: "after" }, p.preview.after ?? "the trash"),
      ),
    );
  }
  if (p.preview.content !== null) {
    card.append(el("pre", { class: "content" }, p.preview.content));
  }
  card.append(el("p", { class: "hint" }, `Proposed by ${p.model}. Nothing changes until you approve.`));
  const buttons: [AgentDecision, string, string][] = [
    ["approve", "Approve", "approve primary"],
    ["approve_all", "Approve all", "approve-all"],
    ["reject", "Reject", "reject"],
    ["stop", "Stop the run", "stop-run"],
  ];
  const row = el("div", { class: "approval-buttons" });
  for (const [d, label, cls] of buttons) {
    const b = el("button", { type: "button", class: cls }, label);
    b.addEventListener("click", () => {
      row.querySelectorAll("button").forEach((x) => x.setAttribute("disabled", ""));
      decide(d);
    });
    row.append(b);
  }
  card.append(row);
  return card;
}

/** A finished run: its answer, what changed, who did what, Undo. */
export function runCard(run: AgentRun, undo: (id: number) => Promise<AgentRun>, open = false): HTMLElement {
  const details = el("details", { class: `agent-run run-${run.status}`, "data-run": String(run.id) });
  if (open) details.setAttribute("open", "");
  details.append(
    el(
      "summary",
      {},
      el("span", { class: "run-task" }, run.task),
      el("span", { class: `badge run-status` }, RUN_STATUS[run.status]),
    ),
  );
  details.append(el("p", { class: "hint run-folder" }, `In ${run.folder}`));
  if (run.answer) details.append(el("pre", { class: "run-answer" }, run.answer));
  if (run.message) details.append(el("p", { class: "run-message" }, run.message));
  if (run.changes.length) {
    details.append(el("ul", { class: "run-changes" }, ...run.changes.map((c) => el("li", {}, c))));
  }
  const who =
    run.planner === run.worker ? `${run.planner} chose and did every step.` : `${run.planner} chose the steps; ${run.worker} did their writing.`;
  details.append(el("p", { class: "hint" }, who));
  details.append(el("ol", { class: "agent-steps" }, ...run.steps.map(stepItem)));
  if (run.changes.length) {
    const status = el("p", { class: "undo-status", role: "status" });
    const b = el("button", { type: "button", class: "undo-run" }, "Undo this run");
    b.addEventListener("click", () => {
      b.setAttribute("disabled", "");
      undo(run.id).then(
        (after) => {
          details.replaceWith(runCard(after, undo, true));
        },
        (e) => {
          status.textContent = message(e);
          b.removeAttribute("disabled");
        },
      );
    });
    details.append(el("div", { class: "undo-row" }, b, status));
  }
  return details;
}

export function agentPanel(view: AgentView, api: AgentApi): HTMLElement {
  const page = el("div", { class: "agent-page" });
  const main = el("section", { class: "card agent-main", "aria-label": "Agent" });
  const past = el("section", { class: "card agent-past", "aria-label": "Past runs" });
  page.append(main, past);
  main.append(
    el("h2", {}, "Agent"),
    el(
      "p",
      { class: "hint" },
      "Give a task on the files of a folder you granted. Each step that changes something is shown first and runs only when you approve it; a run can be undone.",
    ),
  );

  // The granted folders.
  const folderList = el("ul", { class: "granted" });
  const folderSelect = el("select", { name: "folder", "aria-label": "Folder" });
  const grantStatus = el("p", { class: "grant-status", role: "status" });
  const showFolders = (folders: string[]) => {
    folderList.replaceChildren(
      ...folders.map((f) => {
        const remove = el("button", { type: "button", class: "revoke", "aria-label": `Take back ${f}` }, "Remove");
        remove.addEventListener("click", () => {
          api.revoke(f).then(showFolders, (e) => (grantStatus.textContent = message(e)));
        });
        return el("li", {}, el("code", {}, f), remove);
      }),
    );
    const current = folderSelect.value;
    folderSelect.replaceChildren(...folders.map((f) => el("option", { value: f }, f)));
    if (folders.includes(current)) folderSelect.value = current;
    runButton.toggleAttribute("disabled", folders.length === 0);
    if (!folders.length) grantStatus.textContent = "No folder yet: grant one so the agent has files to work on.";
    else grantStatus.textContent = "";
  };
  const grant = el("button", { type: "button", class: "grant" }, "Grant a folder…");
  grant.addEventListener("click", () => {
    api.grant().then(showFolders, (e) => (grantStatus.textContent = message(e)));
  });
  main.append(
    el("h3", {}, "Folders the agent may use"),
    folderList,
    el("div", { class: "row" }, grant, grantStatus),
  );

  // A task.
  const task = el("textarea", { name: "task", rows: "3", "aria-label": "Task", placeholder: "Rename the PDFs in this folder after their titles" });
  const runButton = el("button", { type: "submit", class: "run-agent primary" }, "Run");
  const stop = el("button", { type: "button", class: "stop-agent", hidden: "" }, "Stop");
  const form = el(
    "form",
    { class: "agent-form" },
    el("label", { class: "folder-choice" }, el("span", {}, "In"), folderSelect),
    task,
    el("div", { class: "row" }, runButton, stop),
  );
  const live = el("div", { class: "agent-live", "aria-live": "polite" });
  const thinking = el("p", { class: "thinking hint" });
  const steps = el("ol", { class: "agent-steps" });
  const approval = el("div", { class: "approval-slot" });
  const error = el("p", { class: "error", role: "alert" });
  live.append(steps, thinking, approval, error);
  main.append(el("h3", {}, "Task"), form, live);

  const history = el("div", { class: "agent-history" });
  const undo = (id: number) => api.undo(id);
  history.append(...view.runs.map((r) => runCard(r, undo)));
  past.append(el("h2", {}, "Past runs"), history);
  if (!view.runs.length) history.append(el("p", { class: "hint" }, "No runs yet."));

  const onUpdate = (u: AgentUpdate) => {
    if (u.type === "proposal") {
      thinking.textContent = "";
      approval.replaceChildren(
        approvalCard(u.proposal, (d) => {
          void api.decide(d);
          approval.replaceChildren();
          if (d !== "stop") thinking.textContent = "Working…";
        }),
      );
      approval.querySelector<HTMLButtonElement>("button.approve")?.focus();
      return;
    }
    const e = u.event;
    if (e.kind === "thinking") thinking.textContent = `Choosing step ${e.n}…`;
    if (e.kind === "step") {
      thinking.textContent = "";
      steps.append(stepItem(e.step));
    }
  };

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = task.value.trim();
    if (!text) {
      error.textContent = "Write a task first.";
      return;
    }
    error.textContent = "";
    steps.replaceChildren();
    approval.replaceChildren();
    runButton.setAttribute("disabled", "");
    stop.removeAttribute("hidden");
    thinking.textContent = "Starting…";
    api.run(text, folderSelect.value, onUpdate).then(
      (run) => {
        thinking.textContent = "";
        steps.replaceChildren();
        approval.replaceChildren();
        history.querySelector("p.hint")?.remove();
        history.prepend(runCard(run, undo, true));
      },
      (e) => {
        thinking.textContent = "";
        error.textContent = message(e);
      },
    ).finally(() => {
      runButton.removeAttribute("disabled");
      stop.setAttribute("hidden", "");
    });
  });
  stop.addEventListener("click", () => {
    void api.decide("stop");
    approval.replaceChildren();
  });

  showFolders(view.folders);
  return page;
}
