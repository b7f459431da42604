// The chat pane: plain DOM built from plain data. Model text always goes in
// as text nodes, never as markup, so nothing a model writes can run or load
// anything; replies are shown as Markdown built node by node (markdown.ts).
import type { Conversation, Message, MessageStatus, Role } from "./api";
import { el } from "./dom";
import { renderMarkdown } from "./markdown";

const STATUS_NOTE: Record<MessageStatus, string> = {
  streaming: "",
  complete: "",
  interrupted: "Interrupted",
  error: "Failed",
};

/** Fills a message body: the user's words as typed, a finished reply as Markdown. */
export function setMessageText(body: HTMLElement, role: Role, text: string, status: MessageStatus): void {
  body.dataset.raw = text;
  if (role === "assistant" && status !== "streaming") {
    body.classList.add("md");
    body.replaceChildren(renderMarkdown(text));
  } else {
    body.textContent = text;
  }
}

export function messageView(role: Role, text: string, status: MessageStatus): HTMLElement {
  const body = el("div", { class: "msg-text" });
  setMessageText(body, role, text, status);
  const node = el("article", { class: `msg msg-${role}`, "data-status": status }, body);
  if (STATUS_NOTE[status]) node.append(el("p", { class: "msg-note" }, STATUS_NOTE[status]));
  return node;
}

export function messagesView(messages: Message[]): HTMLElement[] {
  return messages.filter((m) => m.role !== "system").map((m) => messageView(m.role, m.text, m.status));
}

export function conversationItem(c: Conversation, active: boolean): HTMLElement {
  const button = el("button", { class: "conv", "data-id": String(c.id), type: "button" }, c.title);
  if (active) button.setAttribute("aria-current", "true");
  return el("li", {}, button);
}

export function summaryNote(c: Conversation | undefined): HTMLElement | null {
  if (!c?.summary) return null;
  return el("p", { class: "summary-note" }, el("strong", {}, "Earlier turns, summarized: "), c.summary);
}
