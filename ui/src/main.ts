import "./styles.css";
import {
  agentDecide,
  agentGrantFolder,
  agentRevokeFolder,
  agentRun,
  agentUndo,
  agentView,
  appStatus,
  chatSend,
  commandRun,
  commandRunPending,
  commandSaveFile,
  commandsExport,
  commandsImport,
  commandsSave,
  commandsView,
  eventSave,
  onCommandDone,
  onOpenConversation,
  chatStop,
  conversationMessages,
  conversations,
  deleteConversation,
  cancelDownload,
  downloadModel,
  exportConversation,
  getSettings,
  learnedClear,
  learnedList,
  tuneCancel,
  tuneRun,
  importModel,
  openLogFolder,
  saveSettings,
  useModel,
  hotkeyStatus,
  onHotkeyStatus,
  onRephraseRequest,
  onRewritesChanged,
  rephraseAccept,
  rephraseCancel,
  rephraseClipboard,
  rephrasePending,
  rephraseRun,
  rephraseStop,
  rephraseSummarize,
  restoreClipboard,
  rewrites,
  type HotkeyStatus,
  onFileDrop,
  openFile,
  summarizeFile,
  machineFit,
  searchConversations,
  onEngineStatus,
  type ChosenFile,
  type Conversation,
  type EngineStatus,
  type ErrorPayload,
} from "./api";
import {
  bestHitPerConversation,
  confirmDelete,
  conversationItem,
  messagesView,
  messageView,
  searchHitView,
  setMessageText,
  summaryNote,
} from "./chat";
import { agentPanel } from "./agent";
import { commandsPanel } from "./commands";
import { el } from "./dom";
import { dropOverlay, summaryCard } from "./documents";
import { downloadRow, modelPanel } from "./models";
import { Popup } from "./popup";
import { rewritesPanel } from "./rewrites";
import { applyTheme, learningPanel, settingsPanel } from "./settings";
import { modelSummary, statusCard, statusPill } from "./view";

function isErrorPayload(e: unknown): e is ErrorPayload {
  return typeof e === "object" && e !== null && "code" in e && "message" in e;
}

class App {
  private engine: EngineStatus = { state: "loading" };
  private list: Conversation[] = [];
  private active: number | null = null;
  private sending = false;
  /** The panel shown in place of a conversation, if any. */
  private panel: "models" | "settings" | "rewrites" | "commands" | "agent" | null = null;
  private hotkey: HotkeyStatus | null = null;
  /** The Agent page while a run goes on, kept to come back to. */
  private agentPage: HTMLElement | null = null;
  private agentRunning = false;

  private pill: HTMLElement = el("span");
  private readonly modelLine = el("p", { class: "model-line" });
  private readonly convList = el("ul", { class: "conv-list", "aria-label": "Conversations" });
  private readonly search = el("input", {
    type: "search",
    class: "search",
    "aria-label": "Search conversations",
    placeholder: "Search conversations",
  });
  private searchTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly statusSlot = el("div", { class: "status-slot" });
  private readonly messages = el("section", { class: "messages", "aria-live": "polite", "aria-label": "Messages" });
  private readonly error = el("p", { class: "error", role: "alert" });
  private readonly input = el("textarea", {
    "aria-label": "Message",
    rows: "2",
    placeholder: "Ask anything. Enter sends, Shift+Enter starts a new line, Esc stops.",
  });
  private readonly sendButton = el("button", { class: "send", type: "submit" }, "Send");
  private readonly stopButton = el("button", { class: "stop", type: "button" }, "Stop");
  private readonly composer = el("form", { class: "composer" });
  private readonly editNote = el("p", { class: "edit-note" }, "Editing your last message: it and the reply after it are replaced. Esc cancels.");
  private readonly overlay = dropOverlay();
  private readonly toolbar = el("div", { class: "conv-tools" });
  private readonly notice = el("p", { class: "notice", role: "status" });
  /** The stored question being edited, replaced when the edit is sent. */
  private editing: number | null = null;

  mount(root: HTMLElement): void {
    const logo = el("img", { src: "/icon.png", alt: "" });
    const header = el("header", { class: "topbar" }, el("div", { class: "brand" }, logo, el("h1", {}, "Pith")), this.pill);
    const newChat = el("button", { class: "new-chat", type: "button" }, "New chat");
    newChat.addEventListener("click", () => this.openConversation(null));
    const open = el("button", { class: "open-file", type: "button", title: "Summarize a PDF, Word, HTML, Markdown or text file" }, "Open file…");
    open.addEventListener("click", () => void this.pickAndSummarize());
    const models = el("button", { class: "models-button", type: "button" }, "Model & hardware");
    models.addEventListener("click", () => void this.showModels());
    const commandsButton = el("button", { class: "commands-button", type: "button" }, "Commands");
    commandsButton.addEventListener("click", () => void this.showCommands());
    const agentButton = el("button", { class: "agent-button", type: "button" }, "Agent");
    agentButton.addEventListener("click", () => void this.showAgent());
    const rewritesButton = el("button", { class: "rewrites-button", type: "button" }, "Rewrites");
    rewritesButton.addEventListener("click", () => void this.showRewrites());
    const settings = el("button", { class: "settings-button", type: "button" }, "Settings");
    settings.addEventListener("click", () => void this.showSettings());
    const sidebar = el("aside", { class: "sidebar" }, newChat, open, this.search, this.convList, models, commandsButton, agentButton, rewritesButton, settings, this.modelLine);
    this.search.addEventListener("input", () => {
      clearTimeout(this.searchTimer);
      this.searchTimer = setTimeout(() => void this.refreshList(), 200);
    });
    this.search.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && this.search.value) {
        this.search.value = "";
        void this.refreshList();
      }
    });
    const form = this.composer;
    form.append(this.input, this.sendButton, this.stopButton);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.send();
    });
    this.input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey) {
        e.preventDefault();
        void this.send();
      } else if (e.key === "Escape") {
        if (this.editing !== null && !this.sending) this.stopEditing(true);
        else void chatStop();
      }
    });
    this.stopButton.addEventListener("click", () => void chatStop());
    this.convList.addEventListener("click", (e) => void this.onListClick(e.target as HTMLElement));
    this.messages.addEventListener("click", (e) => {
      const target = e.target as HTMLElement;
      const action = target.closest<HTMLElement>("[data-action]")?.dataset.action;
      if (action === "edit") this.startEditing();
      else if (action === "regenerate") void this.regenerate();
      else if (target.closest(".rephrase-now")) void rephraseClipboard();
      else if (target.closest(".restore-clipboard")) {
        restoreClipboard().then(() => this.showNotice("The original clipboard text is back."), (err: unknown) => this.showError(err));
      } else void this.onModelAction(target);
    });
    this.statusSlot.addEventListener("click", (e) => void this.onModelAction(e.target as HTMLElement));
    this.editNote.hidden = true;
    this.toolbar.hidden = true;
    this.notice.hidden = true;
    const main = el("main", { class: "pane" }, this.statusSlot, this.toolbar, this.messages, this.notice, this.error, this.editNote, form);
    root.replaceChildren(header, el("div", { class: "layout" }, sidebar, main), this.overlay);
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && this.sending && e.target !== this.input) void chatStop();
    });
    void onFileDrop((e) => {
      this.overlay.hidden = e.event !== "hover";
      if (e.event === "dropped") void this.summarize(e.file);
      else if (e.event === "refused") this.showError({ code: "INVALID_INPUT", message: e.message });
    });
    this.error.hidden = true;
    this.setEngine({ state: "loading" });
    this.showWelcome();
  }

  setEngine(status: EngineStatus): void {
    this.engine = status;
    const pill = statusPill(status);
    this.pill.replaceWith(pill);
    this.pill = pill;
    this.modelLine.textContent = status.state === "ready" ? modelSummary(status.model, status.threads) : "";
    const ready = status.state === "ready";
    this.statusSlot.replaceChildren(...(ready ? [] : [statusCard(status)]));
    this.input.disabled = status.state === "failed";
    this.updateButtons();
    if (ready) this.input.focus();
    // The model panel shows which model is in use: draw it again.
    if (status.state !== "loading" && this.panel === "models") void this.showModels();
  }

  /** The conversation list, or the search results while a query is typed. */
  async refreshList(): Promise<void> {
    try {
      this.list = await conversations();
    } catch (e) {
      this.showError(e);
    }
    const query = this.search.value.trim();
    if (!query) {
      this.convList.replaceChildren(...this.list.map((c) => conversationItem(c, c.id === this.active)));
      return;
    }
    const hits = bestHitPerConversation(await searchConversations(query).catch(() => []));
    this.convList.replaceChildren(
      ...(hits.length ? hits.map(searchHitView) : [el("li", { class: "no-hits" }, "No matches")]),
    );
  }

  private async onListClick(target: HTMLElement): Promise<void> {
    const ask = target.closest<HTMLElement>("[data-delete]")?.dataset.delete;
    const confirmed = target.closest<HTMLElement>("[data-confirm]")?.dataset.confirm;
    const open = target.closest<HTMLElement>("[data-id]")?.dataset.id;
    if (ask) {
      const c = this.list.find((x) => x.id === Number(ask));
      const item = target.closest("li");
      if (c && item) {
        item.replaceChildren(confirmDelete(c));
        item.querySelector<HTMLElement>(".confirm-no")?.focus();
      }
    } else if (confirmed) {
      try {
        await deleteConversation(Number(confirmed));
        if (this.active === Number(confirmed)) {
          this.active = null;
          this.showWelcome();
        }
      } catch (e) {
        this.showError(e);
      }
      await this.refreshList();
    } else if (target.closest(".confirm-no")) {
      await this.refreshList();
    } else if (open) {
      await this.openConversation(Number(open));
    }
  }

  async pickAndSummarize(): Promise<void> {
    if (this.busy()) return;
    try {
      const file = await openFile();
      if (file) await this.summarize(file);
    } catch (e) {
      this.showError(e);
    }
  }

  /** True, with a message, while a reply or a summary is being written. */
  private busy(): boolean {
    if (this.sending) this.showError({ code: "INVALID_INPUT", message: "Wait for the current reply or summary to finish, or press Esc to stop it." });
    return this.sending;
  }

  /** Summarizes a dropped or picked file; the result opens as a conversation. */
  async summarize(file: ChosenFile): Promise<void> {
    if (this.busy()) return;
    if (this.engine.state !== "ready") {
      this.showError({ code: "INVALID_INPUT", message: this.engine.state === "loading" ? "The model is still loading; drop the file again in a moment." : "There is no model to summarize with yet." });
      return;
    }
    this.sending = true;
    this.updateButtons();
    this.active = null;
    this.panel = null;
    this.error.hidden = true;
    this.notice.hidden = true;
    this.toolbar.hidden = true;
    this.composer.hidden = true;
    const card = summaryCard(file.name, () => void chatStop());
    this.messages.replaceChildren(card.node);
    card.node.querySelector<HTMLElement>(".cancel-summary")?.focus();
    let opened: number | null = null;
    try {
      opened = (await summarizeFile(file, (e) => card.update(e))).conversation_id;
    } catch (e) {
      if (isErrorPayload(e) && e.code === "CANCELLED") this.showNotice(`Stopped summarizing ${file.name}; nothing was saved.`);
      else this.showError(e);
    } finally {
      this.sending = false;
      this.updateButtons();
    }
    if (opened !== null) {
      await this.openConversation(opened);
    } else {
      this.composer.hidden = false;
      this.showWelcome();
      await this.refreshList();
    }
  }

  private showNotice(text: string): void {
    this.notice.textContent = text;
    this.notice.hidden = false;
  }

  private async exportActive(): Promise<void> {
    if (this.active === null) return;
    try {
      const path = await exportConversation(this.active);
      if (path) this.showNotice(`Saved to ${path}`);
    } catch (e) {
      this.showError(e);
    }
  }

  /** The open conversation's title and its Export button. */
  private showToolbar(id: number | null): void {
    const c = this.list.find((x) => x.id === id);
    this.toolbar.hidden = !c;
    if (!c) return;
    const exportButton = el("button", { type: "button", class: "export", title: "Save this conversation as a Markdown file" }, "Export…");
    exportButton.addEventListener("click", () => void this.exportActive());
    this.toolbar.replaceChildren(el("h2", { class: "conv-title" }, c.title), exportButton);
  }

  /** The model panel's and the first-run screen's buttons. */
  private async onModelAction(target: HTMLElement): Promise<void> {
    const button = target.closest<HTMLButtonElement>("button");
    if (!button) return;
    try {
      if (button.dataset.download) await this.download(button);
      else if (button.dataset.use) {
        await useModel(button.dataset.use);
        await this.showModels(`Loading ${button.dataset.use.split("/").pop()}…`);
      } else if (button.classList.contains("import-model")) {
        const path = await importModel();
        if (path && this.composer.hidden) await this.showModels(`Imported ${path.split("/").pop()}.`);
        else if (path) this.showNotice(`Imported ${path.split("/").pop()}.`);
      } else if (button.classList.contains("show-models")) {
        await this.showModels();
      }
    } catch (e) {
      this.showError(e);
    }
  }

  /** Replaces a Download button with a progress bar until the file is in. */
  private async download(button: HTMLButtonElement): Promise<void> {
    const row = downloadRow(button.dataset.name ?? "the model", () => void cancelDownload());
    button.replaceWith(row.node);
    this.error.hidden = true;
    let notice: string | undefined;
    try {
      const path = await downloadModel(button.dataset.download ?? "", (p) => row.update(p));
      notice = `Downloaded ${path.split("/").pop()}.`;
    } catch (e) {
      if (isErrorPayload(e) && e.code === "CANCELLED") notice = "Download cancelled; starting it again continues where it stopped.";
      else this.showError(e);
    }
    if (this.composer.hidden && this.error.hidden) await this.showModels(notice);
    else if (notice) this.showNotice(notice);
  }

  /** Makes room for a panel in place of the conversation (false while a
   * reply is being written); `notice` stays shown above it. */
  private enterPanel(notice?: string): boolean {
    if (this.sending) return false;
    this.active = null;
    this.panel = null;
    this.statusSlot.hidden = true;
    this.toolbar.hidden = true;
    this.error.hidden = true;
    this.composer.hidden = true;
    if (notice) this.showNotice(notice);
    else this.notice.hidden = true;
    return true;
  }

  /** The shortcut's state changed (registered at start or after Settings). */
  setHotkey(status: HotkeyStatus): void {
    this.hotkey = status;
    if (!status.registered && status.message) this.showError({ code: "INVALID_INPUT", message: status.message });
    if (this.panel === "rewrites") void this.showRewrites();
  }

  rewritesChanged(): void {
    if (this.panel === "rewrites") void this.showRewrites();
  }

  /** The rewrite history with the shortcut's state. */
  async showRewrites(): Promise<void> {
    if (!this.enterPanel()) return;
    this.panel = "rewrites";
    await this.refreshList();
    try {
      this.messages.replaceChildren(rewritesPanel(await rewrites(), this.hotkey));
    } catch (e) {
      this.showError(e);
    }
  }

  /** The Commands page: workflows and the user's commands. */
  async showCommands(): Promise<void> {
    const from = this.active;
    if (!this.enterPanel()) return;
    this.panel = "commands";
    await this.refreshList();
    try {
      const view = await commandsView();
      const transcript = from === null ? "" : (await conversationMessages(from)).map((m) => `${m.role === "user" ? "Me" : "Assistant"}: ${m.text}`).join("\n\n");
      this.messages.replaceChildren(
        commandsPanel(view, {
          save: commandsSave,
          run: (name, text, onPiece, options) => {
            const own = view.commands.find((c) => c.name === name);
            const input = options.command?.input ?? own?.input;
            return commandRun(name, !text.trim() && input === "conversation" ? transcript : text, onPiece, options);
          },
          stop: chatStop,
          openFile,
          saveEvent: eventSave,
          exportAll: commandsExport,
          importAll: commandsImport,
          openConversation: (id) => void this.openConversation(id),
        }),
      );
      this.messages.scrollTop = 0;
    } catch (e) {
      this.showError(e);
    }
  }

  /** The Agent page: tasks on a granted folder, each change approved. */
  async showAgent(): Promise<void> {
    if (!this.enterPanel()) return;
    this.panel = "agent";
    await this.refreshList();
    try {
      // A run still going (perhaps waiting for an approval) keeps its page:
      // coming back shows it as it was left.
      if (this.agentPage && this.agentRunning) {
        this.messages.replaceChildren(this.agentPage);
        return;
      }
      const view = await agentView();
      this.agentPage = agentPanel(view, {
        grant: agentGrantFolder,
        revoke: agentRevokeFolder,
        run: (task, folder, onUpdate) => {
          this.agentRunning = true;
          return agentRun(task, folder, onUpdate).finally(() => (this.agentRunning = false));
        },
        decide: agentDecide,
        undo: agentUndo,
      });
      this.messages.replaceChildren(this.agentPage);
      this.messages.scrollTop = 0;
    } catch (e) {
      this.showError(e);
    }
  }

  /** A command run from its shortcut finished. */
  commandDone(message: string): void {
    this.showNotice(message);
    if (this.panel === "rewrites") void this.showRewrites();
    void this.refreshList();
  }

  /** The settings form in place of the conversation. */
  async showSettings(): Promise<void> {
    if (!this.enterPanel()) return;
    this.panel = "settings";
    await this.refreshList();
    try {
      const view = await getSettings();
      this.messages.replaceChildren(
        settingsPanel(view, saveSettings, openLogFolder),
        learningPanel(view, { list: learnedList, clear: learnedClear, tune: tuneRun, cancelTune: tuneCancel }),
      );
      this.messages.querySelector<HTMLElement>("input")?.focus();
    } catch (e) {
      this.messages.replaceChildren();
      this.showError(e);
    }
  }

  /** The model panel in place of the conversation; the composer hides. */
  async showModels(notice?: string): Promise<void> {
    if (!this.enterPanel(notice)) return;
    this.panel = "models";
    this.messages.replaceChildren(
      el("p", { class: "welcome", "aria-busy": "true" }, "Measuring this computer…"),
    );
    await this.refreshList();
    try {
      const fit = await machineFit();
      const current = this.engine.state === "ready" ? this.engine.model.path : null;
      this.messages.replaceChildren(modelPanel(fit, current));
      this.messages.scrollTop = 0;
    } catch (e) {
      this.showError(e);
    }
  }

  private showWelcome(): void {
    this.toolbar.hidden = true;
    this.messages.replaceChildren(
      el("p", { class: "welcome" }, "Ask anything. Replies come from a small model on this computer, and nothing leaves it."),
    );
  }

  async openConversation(id: number | null): Promise<void> {
    if (this.sending) return;
    this.panel = null;
    this.statusSlot.hidden = false;
    if (id !== null && !this.list.some((c) => c.id === id)) await this.refreshList();
    this.active = id;
    this.error.hidden = true;
    this.notice.hidden = true;
    this.composer.hidden = false;
    if (id === null) {
      this.showWelcome();
    } else {
      try {
        const msgs = await conversationMessages(id);
        const c = this.list.find((x) => x.id === id);
        const note = summaryNote(c);
        this.messages.replaceChildren(...(note ? [note] : []), ...messagesView(msgs, !!c?.source));
        this.messages.scrollTop = this.messages.scrollHeight;
      } catch (e) {
        this.showError(e);
      }
    }
    await this.refreshList();
    this.showToolbar(id);
    this.input.focus();
  }

  private updateButtons(): void {
    this.sendButton.disabled = this.sending || this.engine.state !== "ready";
    this.stopButton.hidden = !this.sending;
  }

  private showError(e: unknown): void {
    this.error.textContent = isErrorPayload(e) ? e.message : String(e);
    this.error.hidden = false;
  }

  /** The last stored question, for editing or regenerating. */
  private lastQuestion(): { id: number; text: string } | null {
    const users = this.messages.querySelectorAll<HTMLElement>(".msg-user[data-message-id]");
    const last = users[users.length - 1];
    const text = last?.querySelector<HTMLElement>(".msg-text")?.dataset.raw;
    return last && text !== undefined ? { id: Number(last.dataset.messageId), text } : null;
  }

  private startEditing(): void {
    const q = this.lastQuestion();
    if (!q || this.sending) return;
    this.editing = q.id;
    this.input.value = q.text;
    this.editNote.hidden = false;
    this.input.focus();
  }

  private stopEditing(clear: boolean): void {
    this.editing = null;
    this.editNote.hidden = true;
    if (clear) this.input.value = "";
  }

  private async regenerate(): Promise<void> {
    const q = this.lastQuestion();
    if (!q || this.sending) return;
    this.input.value = q.text;
    await this.send({ replaceFrom: q.id, vary: true });
  }

  async send(options: { replaceFrom?: number; vary?: boolean } = {}): Promise<void> {
    const text = this.input.value.trim();
    if (!text || this.sending || this.engine.state !== "ready") return;
    const replaceFrom = options.replaceFrom ?? this.editing ?? undefined;
    this.stopEditing(false);
    this.sending = true;
    this.error.hidden = true;
    this.updateButtons();
    this.input.value = "";
    if (replaceFrom !== undefined) {
      // What is replaced leaves the view: the question and everything after it.
      const from = this.messages.querySelector(`[data-message-id="${replaceFrom}"]`);
      while (from?.nextSibling) from.nextSibling.remove();
      from?.remove();
    }
    if (this.active === null) this.messages.replaceChildren();
    this.messages.append(messageView("user", text, "complete"));
    const reply = messageView("assistant", "", "streaming");
    const replyText = reply.querySelector(".msg-text") as HTMLElement;
    this.messages.append(reply);
    try {
      const sent = await chatSend(this.active, text, (event) => {
        if (event.event === "started") {
          this.active = event.conversation_id;
          void this.refreshList();
        } else {
          replyText.textContent += event.text;
          this.messages.scrollTop = this.messages.scrollHeight;
        }
      }, { replaceFrom, vary: options.vary });
      reply.dataset.status = "complete";
      setMessageText(replyText, "assistant", sent.reply, "complete");
    } catch (e) {
      const cancelled = isErrorPayload(e) && e.code === "CANCELLED";
      reply.replaceWith(messageView("assistant", replyText.textContent ?? "", cancelled ? "interrupted" : "error"));
      if (!cancelled) this.showError(e);
    } finally {
      this.sending = false;
      this.updateButtons();
      // Reload the stored transcript: message ids, and the edit and
      // regenerate buttons on the new last turn.
      if (this.active !== null && this.error.hidden) await this.openConversation(this.active);
      else await this.refreshList();
      this.input.focus();
    }
  }
}

const root = document.querySelector<HTMLDivElement>("#app");
getSettings()
  .then((s) => applyTheme(s.app.theme))
  .catch(() => undefined);
if (root && location.hash === "#popup") {
  // The rephrase popup's window loads this page with #popup.
  const popup = new Popup({
    pending: rephrasePending,
    run: rephraseRun,
    accept: rephraseAccept,
    stop: rephraseStop,
    cancel: rephraseCancel,
    summarize: rephraseSummarize,
    runCommand: commandRunPending,
    saveFile: commandSaveFile,
  });
  popup.mount(root);
  void onRephraseRequest((p) => void popup.open(p));
  void rephrasePending().then((p) => p && popup.open(p));
} else if (root) {
  const app = new App();
  app.mount(root);
  void onEngineStatus((s) => app.setEngine(s));
  void onHotkeyStatus((s) => app.setHotkey(s));
  void hotkeyStatus().then((s) => s.shortcut && app.setHotkey(s));
  void onRewritesChanged(() => app.rewritesChanged());
  void onCommandDone((m) => app.commandDone(m));
  void onOpenConversation((id) => void app.openConversation(id));
  appStatus()
    .then((s) => app.setEngine(s.engine))
    .catch((e: unknown) => app.setEngine({ state: "failed", error: { code: "IO", message: String(e) } }));
  void app.refreshList();
}
