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
    const base = { conversation_id: 1, model: null, created_at: 0 };
    const views = messagesView([
      { ...base, id: 1, role: "system", text: "summary", status: "complete" },
      { ...base, id: 2, role: "user", text: "hi", status: "complete" },
    ]);
    expect(views.map((v) => v.className)).toEqual(["msg msg-user"]);
  });

  it("shows the running summary of a long conversation", () => {
    const c = { id: 1, title: "t", model: null, created_at: 0, updated_at: 0, pinned: false, summary_through: 4, summary: "They chose Porto." };
    expect(summaryNote(c)?.textContent).toContain("They chose Porto.");
    expect(summaryNote({ ...c, summary: null })).toBeNull();
    expect(conversationItem(c, true).querySelector("button")?.getAttribute("aria-current")).toBe("true");
  });
});
