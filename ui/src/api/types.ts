// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// After changing a type, run: PITH_UPDATE_BINDINGS=1 cargo test --workspace bindings

/**
 * What the UI and scripts branch on. Serialized as `SCREAMING_SNAKE_CASE`.
 */
export type ErrorCode = "MODEL_NOT_FOUND" | "INVALID_MODEL" | "MODEL_LOAD_FAILED" | "OUT_OF_MEMORY" | "DISK_FULL" | "DOWNLOAD" | "UNSUPPORTED_CPU" | "CONTEXT_TOO_LONG" | "EMPTY_INPUT" | "INVALID_INPUT" | "UNSUPPORTED_DOCUMENT" | "RESULT_REJECTED" | "INCOMPLETE_OUTPUT" | "NOT_FOUND" | "HISTORY" | "DATABASE_TOO_NEW" | "CANCELLED" | "INFERENCE" | "IO";

export type ErrorPayload = { code: ErrorCode, message: string, };

/**
 * What an engine knows about the loaded model.
 */
export type ModelInfo = { path: string, name: string, architecture: string, parameters: number, size_bytes: number, layers: number, 
/**
 * Context length the model was trained with.
 */
trained_context: number, 
/**
 * Context window of the running engine.
 */
context: number, has_chat_template: boolean, };

/**
 * Where the engine is, as the UI sees it.
 */
export type EngineStatus = { "state": "loading" } | { "state": "ready", model: ModelInfo, threads: number, } | { "state": "failed", error: ErrorPayload, };

export type AppStatus = { version: string, engine: EngineStatus, };

/**
 * Who said a message in a conversation.
 */
export type Role = "system" | "user" | "assistant";

export type ConversationId = number;

export type MessageId = number;

export type MessageStatus = "streaming" | "complete" | "interrupted" | "error";

export type Conversation = { id: ConversationId, title: string, model: string | null, 
/**
 * Unix milliseconds.
 */
created_at: number, updated_at: number, pinned: boolean, 
/**
 * Running summary of turns folded out of the context window.
 */
summary: string | null, summary_through: MessageId | null, 
/**
 * The document this conversation summarizes (its file name), if any:
 * its first turn is the summary, not a question to ask again.
 */
source: string | null, };

/**
 * Figures of one generated reply.
 */
export type MessageStats = { prompt_tokens: number | null, generated_tokens: number | null, ttft_ms: number | null, total_ms: number | null, };

export type Message = { id: MessageId, conversation_id: ConversationId, role: Role, text: string, model: string | null, status: MessageStatus, created_at: number, prompt_tokens: number | null, generated_tokens: number | null, ttft_ms: number | null, total_ms: number | null, };

/**
 * One search result; `snippet` marks the matched words with « and ».
 */
export type SearchHit = { conversation_id: ConversationId, conversation_title: string, message_id: MessageId, role: Role, snippet: string, };

/**
 * What the UI hears while a reply is written.
 */
export type ChatEvent = { "event": "started", conversation_id: ConversationId, } | { "event": "piece", text: string, };

export type ChatSent = { conversation_id: ConversationId, reply: string, };

export type GpuVendor = "nvidia" | "amd" | "intel" | "apple" | "other";

export type Gpu = { vendor: GpuVendor, name: string, 
/**
 * Dedicated video memory; `None` for a GPU that shares system RAM.
 */
total_vram_bytes: number | null, free_vram_bytes: number | null, 
/**
 * Shares system RAM (Apple silicon, integrated GPUs): one pool, never
 * counted twice.
 */
unified_memory: boolean, 
/**
 * From the memory clock and bus width where the driver reports them.
 */
memory_bandwidth_gbs: number | null, 
/**
 * Where the facts came from: `nvml`, `sysfs`, `sysinfo`.
 */
source: string, };

export type Cpu = { model: string | null, physical_cores: number | null, 
/**
 * CPUs this process may run on (cgroup quotas and affinity included).
 */
logical_cores: number, 
/**
 * SIMD extensions this CPU has, as llama.cpp names them (`AVX2`, `NEON`…).
 */
features: Array<string>, };

export type Memory = { total_bytes: number | null, 
/**
 * What the OS could give without swapping (`MemAvailable`).
 */
available_bytes: number | null, 
/**
 * The container's memory limit (cgroup v2 `memory.max` or v1
 * `memory.limit_in_bytes`); `None` when unlimited or not in one.
 */
cgroup_limit_bytes: number | null, 
/**
 * What the container already uses, counted against its limit.
 */
cgroup_usage_bytes: number | null, };

export type Disk = { path: string, free_bytes: number | null, };

export type HardwareProfile = { 
/**
 * `linux`, `macos`, `windows`…
 */
os: string, 
/**
 * `x86_64`, `aarch64`…
 */
arch: string, cpu: Cpu, memory: Memory, 
/**
 * Every GPU found; empty when none was found.
 */
gpus: Array<Gpu>, 
/**
 * The models folder and the free space on its disk.
 */
disk: Disk | null, 
/**
 * Measured read bandwidth of main memory (GB/s, all physical cores),
 * when [`measure_memory_bandwidth`] was run.
 */
memory_bandwidth_gbs: number | null, };

export type Task = "rephrase" | "summarize" | "chat";

/**
 * Memory and speed of one model at one context on one machine.
 */
export type Estimate = { context: number, 
/**
 * Layers on the GPU (the output layer counts as one more).
 */
gpu_layers: number, weights_bytes: number, kv_cache_bytes: number, compute_bytes: number, runtime_bytes: number, app_bytes: number, 
/**
 * Everything counted against system RAM.
 */
ram_bytes: number, 
/**
 * Everything counted against the GPU's own memory.
 */
vram_bytes: number, gen_tps: number, prompt_tps: number, first_token_s: number, };

export type Choice = { id: string, name: string, file: string, quant: string, 
/**
 * The file's size, what a download fetches.
 */
size_bytes: number, estimate: Estimate, };

export type Rejected = { id: string, reason: string, };

/**
 * What the machine can give, after the safety margin.
 */
export type Budget = { ram_usable_bytes: number, ram_budget_bytes: number, 
/**
 * Free VRAM of the GPU used, less the driver's reserve.
 */
vram_budget_bytes: number | null, gpu: string | null, bandwidth_gbs: number, 
/**
 * Where the bandwidth figure came from: `bench`, `measured`, `assumed`.
 */
bandwidth_source: string, };

export type Plan = { task: Task, choice: Choice | null, 
/**
 * Why this model (or why none).
 */
reason: string, budget: Budget, 
/**
 * Every other catalog model, with why it was not chosen.
 */
rejected: Array<Rejected>, 
/**
 * Facts about the machine worth telling (an unused GPU, an assumption).
 */
notes: Array<string>, };

/**
 * What the header says, for display and planning.
 */
export type GgufSummary = { version: number, tensor_count: number, kv_count: number, architecture: string | null, name: string | null, context_length: number | null, block_count: number | null, embedding_length: number | null, head_count: number | null, head_count_kv: number | null, 
/**
 * Per-head key size when the model sets it (otherwise embedding / heads).
 */
key_length: number | null, sliding_window: number | null, 
/**
 * Tokens in the vocabulary (the length of `tokenizer.ggml.tokens`).
 */
vocab_size: number | null, has_chat_template: boolean, 
/**
 * `general.type` says "adapter": LoRA weights for a model, not a model.
 */
is_adapter: boolean, file_size: number, };

export type InstalledModel = { 
/**
 * The file stem, which `pith models rm` and `--model` accept.
 */
id: string, path: string, size_bytes: number, 
/**
 * The catalog entry for this file, when it is one.
 */
catalog_id: string | null, 
/**
 * The header's metadata; `None` when the file is not usable.
 */
summary: GgufSummary | null, 
/**
 * Why the file cannot be used.
 */
problem: string | null, 
/**
 * The other tool that keeps this file, and its name there ("Ollama
 * (llama3.2:1b)"): Pith uses it read-only and never removes it.
 */
found_in: string | null, 
/**
 * The modes and commands it has a LoRA adapter for.
 */
adapters: Array<string>, };

export type MachineFit = { hardware: HardwareProfile, plans: Array<Plan>, installed: Array<InstalledModel>, gpu_offload: boolean, };

/**
 * A file the user chose, as the window knows it.
 */
export type ChosenFile = { token: number, name: string, };

/**
 * What the window hears about a drag over it.
 */
export type DropEvent = { "event": "hover" } | { "event": "left" } | { "event": "dropped", file: ChosenFile, } | { "event": "refused", message: string, };

export type Stage = "map" | "retry" | "reduce";

export type SummaryLength = "short" | "medium" | "bullets" | "quotes";

/**
 * What the window hears while a document is summarized.
 */
export type SummaryEvent = { "event": "reading" } | { "event": "progress", stage: Stage, parts_done: number, parts: number, eta_s: number | null, };

export type SummaryDone = { conversation_id: ConversationId, coverage: string, };

export type Theme = "system" | "light" | "dark";

export type RephraseMode = "proofread" | "rewrite" | "friendly" | "professional" | "concise" | "bullets";

/**
 * The desktop app's settings.
 */
export type AppSettings = { hotkey: string, rephrase_mode: RephraseMode, theme: Theme, 
/**
 * After Accept, paste the result into the window that had the
 * keyboard focus when the shortcut was pressed (X11, with xdotool).
 */
auto_paste: boolean, 
/**
 * Evaluate copied text for the shortcut before it is pressed, so the
 * rewrite starts at once (see `flows::prepare`).
 */
prepare_copied_text: boolean, 
/**
 * Let the logs hold the text the user works on (for a bug report);
 * off, they hold only its length (`logs::text`).
 */
debug_logs: boolean, 
/**
 * Start the app when the user logs in (`autostart`), so the hotkey
 * works from the start of a session.
 */
open_at_login: boolean, 
/**
 * Show the model the user's accepted rewrites most like a new text
 * as examples (`flows::rephrase::examples_for`).
 */
learn_from_accepted: boolean, 
/**
 * The model file to load instead of the default one.
 */
model?: string | null, };

export type SettingsView = { app: AppSettings, 
/**
 * Where the history, saved model states and settings live.
 */
data_dir: string, 
/**
 * Where the logs are written.
 */
log_dir: string, modes: Array<RephraseMode>, };

export type DownloadProgress = { downloaded: number, total: number | null, };

/**
 * What the popup is asked to rewrite.
 */
export type Pending = { 
/**
 * Grows with every key press: a result for an older id is stale.
 */
id: number, original: string, mode: RephraseMode, modes: Array<RephraseMode>, 
/**
 * Why there is nothing to rewrite (an empty clipboard, an image).
 */
problem: ErrorPayload | null, 
/**
 * The commands the popup offers beside the modes.
 */
commands: Array<string>, 
/**
 * The command to run at once (its own shortcut was pressed).
 */
command: string | null, };

export type RephraseEvent = { "event": "attempt", n: number, } | { "event": "piece", text: string, };

export type RephraseDone = { text: string, mode: RephraseMode, 
/**
 * Proofreading found nothing to change.
 */
unchanged: boolean, 
/**
 * The model that wrote it.
 */
model: string, 
/**
 * A larger model took over after the first one failed the check.
 */
escalated: boolean, };

/**
 * Whether the shortcut works, for the main window.
 */
export type HotkeyStatus = { shortcut: string, registered: boolean, message: string | null, };

/**
 * One rewrite from the hotkey or the command line.
 */
export type Rewrite = { id: number, original: string, result: string, mode: string, 
/**
 * The result went to the clipboard.
 */
accepted: boolean, 
/**
 * The user changed the result before accepting it.
 */
edited: boolean, model: string | null, 
/**
 * Unix milliseconds.
 */
created_at: number, };

/**
 * Where a command's text comes from.
 */
export type Input = "clipboard" | "file" | "conversation";

/**
 * Where a command's result goes.
 */
export type Output = "popup" | "clipboard" | "folder" | "conversation";

/**
 * One of the user's commands.
 */
export type CustomCommand = { 
/**
 * Lowercase letters, digits and dashes: `pith run NAME`.
 */
name: string, 
/**
 * What to do, with `{text}` where the text goes.
 */
instruction: string, input: Input, output: Output, 
/**
 * The folder new files go to, when `output` is `folder`.
 */
folder?: string, 
/**
 * An installed model's id; none: the router's choice.
 */
model?: string, 
/**
 * A JSON Schema the result must follow (the result is then JSON).
 */
schema?: string, 
/**
 * A global shortcut of its own, such as `Ctrl+Alt+T`.
 */
hotkey?: string, };

/**
 * What an import did.
 */
export type Imported = { 
/**
 * The whole list to save: the existing commands with the imported
 * ones added or, by name, replaced.
 */
commands: Array<CustomCommand>, added: Array<string>, replaced: Array<string>, };

/**
 * An event as found in a text, resolved as far as the text allows.
 */
export type EventDraft = { title: string, 
/**
 * The date and the time as the text wrote them.
 */
date_text: string | null, time_text: string | null, location: string | null, 
/**
 * `YYYY-MM-DD`; none when the text does not say which day (the
 * window asks; the command line refuses).
 */
date: string | null, 
/**
 * `HH:MM`; none for an all-day event, or when the text's time cannot
 * be read (then `time_text` is set and the window asks).
 */
time: string | null, duration_minutes: number, };

/**
 * The tone of a reply.
 */
export type Tone = "friendly" | "professional";

/**
 * What a command produced.
 */
export type CommandResult = { command: string, 
/**
 * The result as text: a checklist, an `.ics` file, a reply, the
 * command's output (JSON when it has a schema).
 */
text: string, 
/**
 * The structured result: the items, the event, the schema's value.
 */
value: unknown, 
/**
 * Why the result fails Pith's checks; empty when it passed. A flagged
 * result is shown with these and never copied or saved as a success.
 */
problems: Array<string>, 
/**
 * What the checks removed or could not settle (a name the text does
 * not give, a date that does not say which day).
 */
notes: Array<string>, 
/**
 * The model that wrote it.
 */
model: string, 
/**
 * A larger model took over.
 */
escalated: boolean, 
/**
 * Action items: the list in todo.txt form.
 */
todo_txt: string | null, 
/**
 * Event: what was found, for the window to complete when the text
 * does not say which day or hour.
 */
event: EventDraft | null, };

export type BuiltinCommand = { name: string, description: string, };

/**
 * What the page shows.
 */
export type CommandsView = { builtin: Array<BuiltinCommand>, commands: Array<CustomCommand>, 
/**
 * The installed models a command may name.
 */
models: Array<string>, 
/**
 * The rephrase shortcut, which no command may take.
 */
hotkey: string, };

/**
 * A run's result and where it went.
 */
export type CommandRun = { result: CommandResult, 
/**
 * The conversation it was saved as (a reply; a command whose output
 * is a conversation).
 */
conversation_id: number | null, 
/**
 * The file it was written to (a command whose output is a folder).
 */
saved_to: string | null, };

/**
 * What the popup shows of a command's finished result.
 */
export type CommandDone = { text: string, command: string, model: string, escalated: boolean, 
/**
 * What the checks removed or could not settle.
 */
notes: Array<string>, 
/**
 * The result is a calendar file: Accept saves it (`command_save_file`).
 */
is_file: boolean, };

/**
 * Whether a tool changes anything.
 */
export type Effect = "read" | "change";

/**
 * What a side-effecting step will do, shown before it runs.
 */
export type Preview = { 
/**
 * One line: "Rename a.pdf to Budget review.pdf".
 */
summary: string, 
/**
 * The name before (rename, trash).
 */
before: string | null, 
/**
 * The name after (rename, new file).
 */
after: string | null, 
/**
 * The text a new file or the clipboard will hold.
 */
content: string | null, };

export type RunStatus = "running" | "finished" | "failed" | "cancelled" | "undone";

export type StepStatus = "done" | "rejected" | "failed";

/**
 * One step of a run, as stored.
 */
export type AgentStep = { 
/**
 * 1-based.
 */
n: number, tool: string, arguments: unknown, effect: Effect, status: StepStatus, 
/**
 * One line: what the step does.
 */
summary: string, 
/**
 * What came of it (the tool's result, or why it failed).
 */
output: string, 
/**
 * The model that proposed it.
 */
model: string, 
/**
 * The model's proposals for this step that Pith refused first, and
 * why (a name the file does not hold, a call already made).
 */
refused: Array<string>, };

/**
 * A run, as stored.
 */
export type AgentRun = { id: number, task: string, folder: string, status: RunStatus, answer: string | null, 
/**
 * Why it ended when it did not finish; what undo did.
 */
message: string | null, 
/**
 * The model that chose the steps, and the one that did their work.
 */
planner: string, worker: string, created_at: number, steps: Array<AgentStep>, 
/**
 * The file operations still in place, in words.
 */
changes: Array<string>, };

/**
 * A changing step, waiting for the person.
 */
export type Proposal = { run: number, n: number, tool: string, arguments: unknown, preview: Preview, model: string, };

/**
 * What a run reports as it goes.
 */
export type AgentEvent = { "kind": "started", run: number, } | { "kind": "thinking", n: number, } | { "kind": "step", step: AgentStep, };

/**
 * What the page shows.
 */
export type AgentView = { 
/**
 * The granted folders.
 */
folders: Array<string>, 
/**
 * The last runs, newest first.
 */
runs: Array<AgentRun>, };

/**
 * What a run sends as it goes.
 */
export type AgentUpdate = { "type": "event", event: AgentEvent, } | { "type": "proposal", proposal: Proposal, };

export type AgentDecision = "approve" | "approve_all" | "reject" | "stop";

/**
 * The accepted rewrites new requests learn from.
 */
export type Learned = { count: number, 
/**
 * The latest, newest first.
 */
latest: Array<Rewrite>, };

/**
 * How one model (with or without an adapter) did on held-out pairs.
 */
export type Score = { pairs: number, 
/**
 * Share of first tries that Pith's check accepts.
 */
check_pass_rate: number, 
/**
 * Share of first tries that the check accepts and that are the target
 * (word for word): for proofread, the mistakes fixed and nothing else.
 */
pass_rate: number, 
/**
 * Mean character similarity of the first try to the target (0..1).
 */
similarity: number, };

/**
 * How much better an adapter did, in points (percentage points for the
 * rates, hundredths for similarity).
 */
export type Gain = { pass_rate_points: number, check_pass_rate_points: number, similarity_points: number, };

/**
 * What the flow reports as it goes (the app's progress bar, `--json`).
 */
export type TuneEvent = { "stage": "pairs", done: number, of: number, } | { "stage": "split", train: number, held_out: number, } | { "stage": "copying" } | { "stage": "training", step: number, steps: number, loss: number, tokens_per_s: number, } | { "stage": "factoring" } | { "stage": "evaluating", tuned: boolean, done: number, of: number, };

/**
 * How a run ended.
 */
export type TuneReport = { mode: RephraseMode, 
/**
 * `rules` or the teacher's id.
 */
source: string, train_pairs: number, held_out_pairs: number, 
/**
 * Pairs a teacher wrote that Pith's check refused.
 */
refused_pairs: number, steps: number, training_tokens: number, tokens_per_s: number, minutes: number, 
/**
 * The share of the trained change the rank-`rank` adapter keeps.
 */
kept: number, base: Score, tuned: Score, gain: Gain, 
/**
 * Where the adapter was installed.
 */
installed: string, };
