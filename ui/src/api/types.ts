// Shapes the Rust side sends. Kept in step with src-tauri/src/state.rs and
// pith-core's ModelInfo / ErrorPayload.

export type ErrorCode =
  | "MODEL_NOT_FOUND"
  | "INVALID_MODEL"
  | "MODEL_LOAD_FAILED"
  | "OUT_OF_MEMORY"
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

export type ChatEvent =
  | { event: "started"; conversation_id: number }
  | { event: "piece"; text: string };

export interface ChatSent {
  conversation_id: number;
  reply: string;
}
