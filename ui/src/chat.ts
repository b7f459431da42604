// The chat pane: plain DOM built from plain data. Model text always goes in
// as text nodes, never as markup, so nothing a model writes can run or load
// anything; replies are shown as Markdown built node by node (markdown.ts).
import type { Conversation, Message, MessageStatus, Role, SearchHit } from "./api";
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

/**
 * A stored transcript. The last question can be edited and sent again, and
 * the last reply regenerated; both replace what follows them. In a
 * document's conversation the summary itself is neither.
 */
export function messagesView(messages: Message[], fromDocument = false): HTMLElement[] {
  const shown = messages.filter((m) => m.role !== "system");
  // A document summary's first turn stands for the document, which is not
  // in the conversation: asking it again would summarize nothing.
  const locked = fromDocument ? shown.findIndex((m) => m.role === "user") : -1;
  const found = shown.map((m) => m.role).lastIndexOf("user");
  const lastUser = found === locked ? -1 : found;
  return shown.map((m, i) => {
    const view = messageView(m.role, m.text, m.status);
    view.dataset.messageId = String(m.id);
    const action =
      i === lastUser
        ? ["edit", "Edit"]
        : i === shown.length - 1 && m.role === "assistant" && lastUser >= 0
          ? ["regenerate", "Regenerate"]
          : null;
    if (action) {
      view.append(
        el(
          "div",
          { class: "msg-actions" },
          el("button", { type: "button", class: `msg-${action[0]}`, "data-action": action[0] }, action[1]),
        ),
      );
    }
    return view;
  });
}

export function conversationItem(c: Conversation, active: boolean): HTMLElement {
  const button = el("button", { class: "conv", "data-id": String(c.id), type: "button" }, c.title);
  if (active) button.setAttribute("aria-current", "true");
  const remove = el(
    "button",
    { class: "conv-delete", "data-delete": String(c.id), type: "button", "aria-label": `Delete ${c.title}`, title: "Delete" },
    "×",
  );
  return el("li", { class: "conv-item" }, button, remove);
}

/** The question asked before a conversation is deleted, in its list item. */
export function confirmDelete(c: Conversation): HTMLElement {
  return el(
    "div",
    { class: "confirm", role: "alertdialog", "aria-label": `Delete ${c.title}?` },
    el("p", {}, "Delete “", c.title, "” and its messages?"),
    el("button", { class: "confirm-yes", "data-confirm": String(c.id), type: "button" }, "Delete"),
    el("button", { class: "confirm-no", type: "button" }, "Cancel"),
  );
}

/** The best hit of each conversation (hits arrive best first). */
export function bestHitPerConversation(hits: SearchHit[]): SearchHit[] {
  const seen = new Set<number>();
  return hits.filter((h) => !seen.has(h.conversation_id) && seen.add(h.conversation_id) !== undefined);
}

/** A search result: the conversation and the passage, matches marked. */
export function searchHitView(hit: SearchHit): HTMLElement {
  const snippet = el("span", { class: "hit-snippet" });
  // « and » surround the matched words; everything else stays plain text.
  for (const [i, part] of hit.snippet.split(/[«»]/).entries()) {
    if (part) snippet.append(i % 2 === 1 ? el("mark", {}, part) : part);
  }
  const button = el(
    "button",
    { class: "hit", "data-id": String(hit.conversation_id), type: "button" },
    el("span", { class: "hit-title" }, hit.conversation_title),
    snippet,
  );
  return el("li", {}, button);
}

export function summaryNote(c: Conversation | undefined): HTMLElement | null {
  if (!c?.summary) return null;
  return el("p", { class: "summary-note" }, el("strong", {}, "Earlier turns, summarized: "), c.summary);
}
