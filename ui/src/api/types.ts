// Shapes the Rust side sends. Kept in step with src-tauri/src/state.rs and
// pith-core's ModelInfo / ErrorPayload.

export type ErrorCode =
  | "MODEL_NOT_FOUND"
  | "INVALID_MODEL"
  | "MODEL_LOAD_FAILED"
  | "OUT_OF_MEMORY"
  | "DISK_FULL"
  | "DOWNLOAD"
  | "UNSUPPORTED_CPU"
  | "CONTEXT_TOO_LONG"
  | "EMPTY_INPUT"
  | "INVALID_INPUT"
  | "UNSUPPORTED_DOCUMENT"
  | "RESULT_REJECTED"
  | "NOT_FOUND"
  | "HISTORY"
  | "DATABASE_TOO_NEW"
  | "CANCELLED"
  | "INFERENCE"
  | "IO";

export interface ErrorPayload {
  code: ErrorCode;
  message: string;
}

export interface ModelInfo {
  path: string;
  name: string;
  architecture: string;
  parameters: number;
  size_bytes: number;
  layers: number;
  trained_context: number;
  context: number;
  has_chat_template: boolean;
}

export type EngineStatus =
  | { state: "loading" }
  | { state: "ready"; model: ModelInfo; threads: number }
  | { state: "failed"; error: ErrorPayload };

export interface AppStatus {
  version: string;
  engine: EngineStatus;
}

export type Role = "system" | "user" | "assistant";
export type MessageStatus = "streaming" | "complete" | "interrupted" | "error";

export interface Conversation {
  id: number;
  title: string;
  model: string | null;
  created_at: number;
  updated_at: number;
  pinned: boolean;
  summary: string | null;
  summary_through: number | null;
  /** The document this conversation summarizes, if any. */
  source: string | null;
}

export interface Message {
  id: number;
  conversation_id: number;
  role: Role;
  text: string;
  model: string | null;
  status: MessageStatus;
  created_at: number;
}

export interface SearchHit {
  conversation_id: number;
  conversation_title: string;
  message_id: number;
  role: Role;
  /** The matching passage; matched words are wrapped in « and ». */
  snippet: string;
}

export type ChatEvent =
  | { event: "started"; conversation_id: number }
  | { event: "piece"; text: string };

export interface ChatSent {
  conversation_id: number;
  reply: string;
}

// The hardware probe and the fit planner (pith-core hardware / models::plan).

export interface Gpu {
  vendor: "nvidia" | "amd" | "intel" | "apple" | "other";
  name: string;
  total_vram_bytes: number | null;
  free_vram_bytes: number | null;
  unified_memory: boolean;
  memory_bandwidth_gbs: number | null;
  source: string;
}

export interface HardwareProfile {
  os: string;
  arch: string;
  cpu: { model: string | null; physical_cores: number | null; logical_cores: number; features: string[] };
  memory: {
    total_bytes: number | null;
    available_bytes: number | null;
    cgroup_limit_bytes: number | null;
    cgroup_usage_bytes: number | null;
  };
  gpus: Gpu[];
  disk: { path: string; free_bytes: number | null } | null;
  memory_bandwidth_gbs: number | null;
}

export type Task = "rephrase" | "summarize" | "chat";

export interface Estimate {
  context: number;
  gpu_layers: number;
  weights_bytes: number;
  kv_cache_bytes: number;
  compute_bytes: number;
  runtime_bytes: number;
  app_bytes: number;
  ram_bytes: number;
  vram_bytes: number;
  gen_tps: number;
  prompt_tps: number;
  first_token_s: number;
}

export interface Plan {
  task: Task;
  choice: { id: string; name: string; file: string; quant: string; estimate: Estimate } | null;
  reason: string;
  budget: {
    ram_usable_bytes: number;
    ram_budget_bytes: number;
    vram_budget_bytes: number | null;
    gpu: string | null;
    bandwidth_gbs: number;
    bandwidth_source: string;
  };
  rejected: { id: string; reason: string }[];
  notes: string[];
}

export interface InstalledModel {
  id: string;
  path: string;
  size_bytes: number;
  catalog_id: string | null;
  summary: { architecture: string | null; context_length: number | null; has_chat_template: boolean } | null;
  problem: string | null;
}

export interface MachineFit {
  hardware: HardwareProfile;
  plans: Plan[];
  installed: InstalledModel[];
  gpu_offload: boolean;
}

/** A file the user dropped or picked; Rust keeps its path. */
export interface ChosenFile {
  token: number;
  name: string;
}

export type DropEvent =
  | { event: "hover" }
  | { event: "left" }
  | { event: "dropped"; file: ChosenFile }
  | { event: "refused"; message: string };

export type SummaryStage = "map" | "retry" | "reduce";

export type SummaryEvent =
  | { event: "reading" }
  | { event: "progress"; stage: SummaryStage; parts_done: number; parts: number; eta_s: number | null };

export interface SummaryDone {
  conversation_id: number;
  coverage: string;
}

export type Theme = "system" | "light" | "dark";

/** The app's part of settings.toml (pith-core settings::AppSettings). */
export interface AppSettings {
  hotkey: string;
  rephrase_mode: string;
  theme: Theme;
  /** After Accept, paste into the window that had the focus (X11). */
  auto_paste: boolean;
  model?: string | null;
}

export interface SettingsView {
  app: AppSettings;
  data_dir: string;
  modes: string[];
}

export interface DownloadProgress {
  downloaded: number;
  total: number | null;
}

/** What the rephrase popup is asked to rewrite (src-tauri/src/rephrase.rs). */
export interface Pending {
  id: number;
  original: string;
  mode: string;
  modes: string[];
  problem: ErrorPayload | null;
}

export type RephraseEvent = { event: "attempt"; n: number } | { event: "piece"; text: string };

export interface RephraseDone {
  text: string;
  mode: string;
  unchanged: boolean;
}

export interface HotkeyStatus {
  shortcut: string;
  registered: boolean;
  message: string | null;
}

export interface Rewrite {
  id: number;
  original: string;
  result: string;
  mode: string;
  accepted: boolean;
  model: string | null;
  created_at: number;
}
