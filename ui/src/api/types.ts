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
