// Typed wrappers over the app's commands and events: the only place the UI
// talks to Rust.
import { Channel, invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { AppStatus, ChatEvent, ChatSent, Conversation, EngineStatus, MachineFit, Message, SearchHit } from "./types";

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
