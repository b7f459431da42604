import { describe, expect, it } from "vitest";
import { conversationItem, messageView, messagesView, summaryNote } from "./chat";

describe("chat view", () => {
  it("renders model output as inert text: no image loads, no script runs", () => {
    const hostile = '<img src="http://example.com/x.png" onerror="alert(1)"><script>alert(2)</script>';
    const node = messageView("assistant", hostile, "complete");
    expect(node.querySelector("img")).toBeNull();
    expect(node.querySelector("script")).toBeNull();
    expect(node.textContent).toContain("<script>alert(2)</script>");
  });

  it("marks interrupted and failed replies", () => {
    expect(messageView("assistant", "half", "interrupted").textContent).toContain("Interrupted");
    expect(messageView("assistant", "", "error").getAttribute("data-status")).toBe("error");
    expect(messageView("user", "hi", "complete").querySelector(".msg-note")).toBeNull();
  });

  it("leaves system messages out of the transcript", () => {
    const base = { conversation_id: 1, model: null, created_at: 0, prompt_tokens: null, generated_tokens: null, ttft_ms: null, total_ms: null };
    const views = messagesView([
      { ...base, id: 1, role: "system", text: "summary", status: "complete" },
      { ...base, id: 2, role: "user", text: "hi", status: "complete" },
    ]);
    expect(views.map((v) => v.className)).toEqual(["msg msg-user"]);
  });

  it("shows the running summary of a long conversation", () => {
    const c = { id: 1, title: "t", model: null, created_at: 0, updated_at: 0, pinned: false, summary_through: 4, summary: "They chose Porto.", source: null };
    expect(summaryNote(c)?.textContent).toContain("They chose Porto.");
    expect(summaryNote({ ...c, summary: null })).toBeNull();
    expect(conversationItem(c, true).querySelector("button")?.getAttribute("aria-current")).toBe("true");
  });
});

describe("search and delete", () => {
  const c = { id: 7, title: "Trip <b>plans</b>", model: null, created_at: 0, updated_at: 0, pinned: false, summary_through: null, summary: null, source: null };

  it("marks the matched words of a search hit, as text", async () => {
    const { searchHitView } = await import("./chat");
    const hit = searchHitView({
      conversation_id: 7,
      conversation_title: "Trip <b>plans</b>",
      message_id: 3,
      role: "assistant",
      snippet: "…the «train» leaves at «nine» <img src=x>…",
    });
    expect([...hit.querySelectorAll("mark")].map((m) => m.textContent)).toEqual(["train", "nine"]);
    expect(hit.querySelector("img")).toBeNull();
    expect(hit.querySelector("b")).toBeNull();
    expect(hit.querySelector("[data-id]")?.getAttribute("data-id")).toBe("7");
  });

  it("lists each conversation once, by its best hit", async () => {
    const { bestHitPerConversation } = await import("./chat");
    const hit = (conversation_id: number, message_id: number) => ({
      conversation_id,
      conversation_title: "t",
      message_id,
      role: "user" as const,
      snippet: "",
    });
    const best = bestHitPerConversation([hit(1, 10), hit(2, 20), hit(1, 11)]);
    expect(best.map((h) => [h.conversation_id, h.message_id])).toEqual([
      [1, 10],
      [2, 20],
    ]);
  });

  it("asks before deleting, naming the conversation", async () => {
    const { confirmDelete } = await import("./chat");
    const item = conversationItem(c, false);
    expect(item.querySelector(".conv-delete")?.getAttribute("aria-label")).toBe("Delete Trip <b>plans</b>");
    const ask = confirmDelete(c);
    expect(ask.getAttribute("role")).toBe("alertdialog");
    expect(ask.textContent).toContain("Delete “Trip <b>plans</b>” and its messages?");
    expect(ask.querySelector("[data-confirm]")?.getAttribute("data-confirm")).toBe("7");
  });
});

describe("edit and regenerate", () => {
  const base = { conversation_id: 1, model: null, created_at: 0, prompt_tokens: null, generated_tokens: null, ttft_ms: null, total_ms: null };
  const msgs = [
    { ...base, id: 1, role: "user" as const, text: "first", status: "complete" as const },
    { ...base, id: 2, role: "assistant" as const, text: "one", status: "complete" as const },
    { ...base, id: 3, role: "user" as const, text: "second", status: "complete" as const },
    { ...base, id: 4, role: "assistant" as const, text: "two", status: "interrupted" as const },
  ];

  it("offers Edit on the last question and Regenerate on the last reply only", () => {
    const views = messagesView(msgs);
    expect(views.map((v) => v.dataset.messageId)).toEqual(["1", "2", "3", "4"]);
    expect(views.map((v) => v.querySelector("[data-action]")?.getAttribute("data-action") ?? null)).toEqual([
      null,
      null,
      "edit",
      "regenerate",
    ]);
  });

  it("keeps the question's own words for editing", () => {
    const views = messagesView([{ ...msgs[0], text: "**raw** <b>text</b>" }]);
    expect(views[0].querySelector<HTMLElement>(".msg-text")?.dataset.raw).toBe("**raw** <b>text</b>");
    expect(views[0].querySelector("[data-action]")?.getAttribute("data-action")).toBe("edit");
  });

  it("never offers to ask a document's summary again, only the questions after it", () => {
    const actions = (views: HTMLElement[]) => views.map((v) => v.querySelector("[data-action]")?.getAttribute("data-action") ?? null);
    expect(actions(messagesView(msgs.slice(0, 2), true))).toEqual([null, null]);
    expect(actions(messagesView(msgs, true))).toEqual([null, null, "edit", "regenerate"]);
  });

  it("offers nothing to regenerate without a question", () => {
    const views = messagesView([msgs[1]]);
    expect(views[0].querySelector("[data-action]")).toBeNull();
  });
});
