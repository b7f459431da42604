// Typed wrappers over the app's commands and events: the only place the UI
// talks to Rust.
import { Channel, invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type {
  AgentDecision,
  AgentRun,
  AgentUpdate,
  AgentView,
  AppSettings,
  AppStatus,
  ChatEvent,
  CommandDone,
  CommandRun,
  CommandsView,
  CustomCommand,
  EventDraft,
  Imported,
  Tone,
  ChatSent,
  ChosenFile,
  Conversation,
  DownloadProgress,
  DropEvent,
  EngineStatus,
  HotkeyStatus,
  Learned,
  MachineFit,
  Message,
  Pending,
  RephraseDone,
  RephraseEvent,
  RephraseMode,
  Rewrite,
  SearchHit,
  SettingsView,
  SummaryDone,
  SummaryEvent,
  TuneEvent,
  TuneReport,
} from "./types";

export * from "./types";

export function appStatus(): Promise<AppStatus> {
  return invoke<AppStatus>("app_status");
}

export function onEngineStatus(handler: (status: EngineStatus) => void): Promise<UnlistenFn> {
  return listen<EngineStatus>("engine-status", (event) => handler(event.payload));
}

export function conversations(): Promise<Conversation[]> {
  return invoke<Conversation[]>("conversations");
}

export function searchConversations(query: string): Promise<SearchHit[]> {
  return invoke<SearchHit[]>("search_conversations", { query });
}

export function deleteConversation(id: number): Promise<void> {
  return invoke<void>("delete_conversation", { id });
}

export function conversationMessages(id: number): Promise<Message[]> {
  return invoke<Message[]>("conversation_messages", { id });
}

/**
 * Sends a message; `onEvent` hears the conversation id, then each piece of
 * the reply. `replaceFrom` first deletes that message and what follows (an
 * edited question, a regenerated reply); `vary` samples a different reply.
 */
export function chatSend(
  conversation: number | null,
  text: string,
  onEvent: (event: ChatEvent) => void,
  options: { replaceFrom?: number; vary?: boolean } = {},
): Promise<ChatSent> {
  const channel = new Channel<ChatEvent>(onEvent);
  return invoke<ChatSent>("chat_send", {
    conversation,
    text,
    onEvent: channel,
    replaceFrom: options.replaceFrom ?? null,
    vary: options.vary ?? false,
  });
}

export function chatStop(): Promise<void> {
  return invoke<void>("chat_stop");
}

/** The machine, the planner's choice per task, and the installed models. */
export function machineFit(): Promise<MachineFit> {
  return invoke<MachineFit>("machine_fit");
}

/** Drags over the window and dropped files (their paths stay in Rust). */
export function onFileDrop(handler: (event: DropEvent) => void): Promise<UnlistenFn> {
  return listen<DropEvent>("file-drop", (event) => handler(event.payload));
}

/** The system's open dialog; null when the user cancels. */
export function openFile(): Promise<ChosenFile | null> {
  return invoke<ChosenFile | null>("open_file");
}

/** Summarizes a chosen file into a new conversation; `chatStop` cancels. */
export function summarizeFile(
  file: ChosenFile,
  onEvent: (event: SummaryEvent) => void,
  length: string | null = null,
): Promise<SummaryDone> {
  return invoke<SummaryDone>("summarize_file", { token: file.token, length, onEvent: new Channel<SummaryEvent>(onEvent) });
}

/** Saves a conversation as Markdown where the user picks; the path, or null. */
export function exportConversation(id: number): Promise<string | null> {
  return invoke<string | null>("export_conversation", { id });
}

export function getSettings(): Promise<SettingsView> {
  return invoke<SettingsView>("get_settings");
}

/** Opens the log folder in the desktop's file manager. */
export function openLogFolder(): Promise<void> {
  return invoke<void>("open_log_folder");
}

/** Saves the app's settings; resolves to them as stored. */
export function saveSettings(app: AppSettings): Promise<AppSettings> {
  return invoke<AppSettings>("save_settings", { app });
}

/** Downloads a catalog model; resolves to its path. `cancelDownload` stops it. */
export function downloadModel(id: string, onProgress: (p: DownloadProgress) => void): Promise<string> {
  return invoke<string>("download_model", { id, onProgress: new Channel<DownloadProgress>(onProgress) });
}

export function cancelDownload(): Promise<void> {
  return invoke<void>("cancel_download");
}

/** The accepted rewrites new requests learn from: how many, the latest. */
export function learnedList(): Promise<Learned> {
  return invoke<Learned>("learned_list");
}

/** Stops learning from every accepted rewrite so far; resolves to how many. */
export function learnedClear(): Promise<number> {
  return invoke<number>("learned_clear");
}

/** Tunes the model for `mode` (minutes); the adapter is installed only when it does better. */
export function tuneRun(mode: RephraseMode, onEvent: (e: TuneEvent) => void): Promise<TuneReport> {
  return invoke<TuneReport>("tune_run", { mode, onEvent: new Channel<TuneEvent>(onEvent) });
}

export function tuneCancel(): Promise<void> {
  return invoke<void>("tune_cancel");
}

/** The system's open dialog for a .gguf file, copied into the models folder; null when cancelled. */
export function importModel(): Promise<string | null> {
  return invoke<string | null>("import_model");
}

/** Switches to an installed model (the engine reloads; engine-status follows). */
export function useModel(path: string): Promise<void> {
  return invoke<void>("use_model", { path });
}

// The rephrase popup.

export function rephrasePending(): Promise<Pending | null> {
  return invoke<Pending | null>("rephrase_pending");
}

export function onRephraseRequest(handler: (p: Pending) => void): Promise<UnlistenFn> {
  return listen<Pending>("rephrase-request", (event) => handler(event.payload));
}

/** Rewrites the pending text; `again` asks for another version (Retry). */
export function rephraseRun(mode: RephraseMode, again: boolean, onEvent: (e: RephraseEvent) => void): Promise<RephraseDone> {
  return invoke<RephraseDone>("rephrase_run", { mode, again, onEvent: new Channel<RephraseEvent>(onEvent) });
}

/** Accepts the rewrite; `edited` is the result as the user changed it. */
export function rephraseAccept(edited?: string): Promise<void> {
  return invoke<void>("rephrase_accept", { edited: edited ?? null });
}

export function rephraseStop(): Promise<void> {
  return invoke<void>("rephrase_stop");
}

export function rephraseCancel(): Promise<void> {
  return invoke<void>("rephrase_cancel");
}

export function rephraseSummarize(): Promise<void> {
  return invoke<void>("rephrase_summarize");
}

// The main window's side of the hotkey.

export function rewrites(): Promise<Rewrite[]> {
  return invoke<Rewrite[]>("rewrites");
}

export function restoreClipboard(): Promise<void> {
  return invoke<void>("restore_clipboard");
}

export function rephraseClipboard(): Promise<void> {
  return invoke<void>("rephrase_clipboard");
}

export function hotkeyStatus(): Promise<HotkeyStatus> {
  return invoke<HotkeyStatus>("hotkey_status");
}

export function onHotkeyStatus(handler: (s: HotkeyStatus) => void): Promise<UnlistenFn> {
  return listen<HotkeyStatus>("hotkey-status", (event) => handler(event.payload));
}

export function onRewritesChanged(handler: () => void): Promise<UnlistenFn> {
  return listen("rewrites-changed", () => handler());
}

// The Commands page: the built-in workflows and the user's commands.

export function commandsView(): Promise<CommandsView> {
  return invoke<CommandsView>("commands_view");
}

/** Saves the whole list (checked, shortcuts registered); resolves to it as stored. */
export function commandsSave(commands: CustomCommand[]): Promise<CustomCommand[]> {
  return invoke<CustomCommand[]>("commands_save", { commands });
}

/**
 * Runs a saved command by `name`, or `command` as the form holds it (Try),
 * on `text` or a chosen file; `deliver` sends the result where the command
 * says (a folder, a conversation). `chatStop` cancels.
 */
export function commandRun(
  name: string,
  text: string,
  onPiece: (piece: string) => void,
  options: { command?: CustomCommand; file?: ChosenFile; tone?: Tone; deliver?: boolean } = {},
): Promise<CommandRun> {
  return invoke<CommandRun>("command_run", {
    name,
    command: options.command ?? null,
    text,
    file: options.file?.token ?? null,
    tone: options.tone ?? "friendly",
    deliver: options.deliver ?? false,
    onPiece: new Channel<string>(onPiece),
  });
}

/** Saves a completed event as an .ics file where the user picks; the path, or null. */
export function eventSave(draft: EventDraft): Promise<string | null> {
  return invoke<string | null>("event_save", { draft });
}

export function commandsExport(): Promise<string | null> {
  return invoke<string | null>("commands_export");
}

export function commandsImport(): Promise<Imported | null> {
  return invoke<Imported | null>("commands_import");
}

/** A command run from its shortcut finished: where its result went. */
export function onCommandDone(handler: (message: string) => void): Promise<UnlistenFn> {
  return listen<string>("command-done", (event) => handler(event.payload));
}

export function onOpenConversation(handler: (id: number) => void): Promise<UnlistenFn> {
  return listen<number>("open-conversation", (event) => handler(event.payload));
}

// The popup's commands.

export function commandRunPending(name: string, onEvent: (e: RephraseEvent) => void): Promise<CommandDone> {
  return invoke<CommandDone>("command_run_pending", { name, onEvent: new Channel<RephraseEvent>(onEvent) });
}

/** Accept for a result that is a file (an event): saved where the user picks. */
export function commandSaveFile(): Promise<string | null> {
  return invoke<string | null>("command_save_file");
}

// The Agent page.

export function agentView(): Promise<AgentView> {
  return invoke<AgentView>("agent_view");
}

/** Grants a folder the user picks; the granted folders. */
export function agentGrantFolder(): Promise<string[]> {
  return invoke<string[]>("agent_grant_folder");
}

export function agentRevokeFolder(folder: string): Promise<string[]> {
  return invoke<string[]>("agent_revoke_folder", { folder });
}

/** Runs a task in a granted folder; each step and each approval to give arrives on `onUpdate`. */
export function agentRun(task: string, folder: string, onUpdate: (u: AgentUpdate) => void): Promise<AgentRun> {
  return invoke<AgentRun>("agent_run", { task, folder, updates: new Channel<AgentUpdate>(onUpdate) });
}

/** The answer to the step waiting for approval. */
export function agentDecide(decision: AgentDecision): Promise<void> {
  return invoke<void>("agent_decide", { decision });
}

export function agentUndo(run: number): Promise<AgentRun> {
  return invoke<AgentRun>("agent_undo", { run });
}
