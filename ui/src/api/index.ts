// Typed wrappers over the app's commands and events: the only place the UI
// talks to Rust.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { AppStatus, EngineStatus } from "./types";

export * from "./types";

export function appStatus(): Promise<AppStatus> {
  return invoke<AppStatus>("app_status");
}

export function onEngineStatus(handler: (status: EngineStatus) => void): Promise<UnlistenFn> {
  return listen<EngineStatus>("engine-status", (event) => handler(event.payload));
}
