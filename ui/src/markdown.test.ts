import { describe, expect, it } from "vitest";
import { messageView } from "./chat";
import { highlight, renderMarkdown } from "./markdown";

function html(src: string): HTMLElement {
  const div = document.createElement("div");
  div.append(renderMarkdown(src));
  return div;
}

describe("markdown", () => {
  it("renders paragraphs, headings, lists, quotes, emphasis and code", () => {
    const d = html(
      "# Plan\n\nFirst **bold** and *italic* and `code`.\nSecond line.\n\n- one\n- two\n\n3. three\n4. four\n\n> quoted\n\n---",
    );
    expect(d.querySelector("h3")?.textContent).toBe("Plan");
    const p = d.querySelector("p");
    expect(p?.querySelector("strong")?.textContent).toBe("bold");
    expect(p?.querySelector("em")?.textContent).toBe("italic");
    expect(p?.querySelector("code")?.textContent).toBe("code");
    expect(p?.querySelector("br")).not.toBeNull();
    expect([...d.querySelectorAll("ul li")].map((li) => li.textContent)).toEqual(["one", "two"]);
    expect(d.querySelector("ol")?.getAttribute("start")).toBe("3");
    expect(d.querySelector("blockquote")?.textContent).toBe("quoted");
    expect(d.querySelector("hr")).not.toBeNull();
  });

  it("puts code blocks in a highlighted block with a copy button", () => {
    const d = html("Run:\n\n```python\n# greet\nprint(\"hi\", 42)\n```\nafter");
    const block = d.querySelector(".code-block");
    expect(block?.querySelector(".code-lang")?.textContent).toBe("python");
    expect(block?.querySelector("code")?.textContent).toBe('# greet\nprint("hi", 42)');
    expect(block?.querySelector(".tok-comment")?.textContent).toBe("# greet");
    expect(block?.querySelector(".tok-string")?.textContent).toBe('"hi"');
    expect(block?.querySelector(".tok-number")?.textContent).toBe("42");
    expect(block?.querySelector("button.copy-code")?.textContent).toBe("Copy");
    expect(d.lastElementChild?.textContent).toBe("after");
  });

  it("keeps an unfinished code fence as code while a reply streams", () => {
    const d = html("```rust\nfn main() {");
    expect(d.querySelector(".tok-keyword")?.textContent).toBe("fn");
    expect(d.querySelector("code")?.textContent).toBe("fn main() {");
  });

  it("shows raw HTML as text: no image loads, no script runs, no link navigates", () => {
    const hostile =
      'Look <img src="http://example.com/x.png" onerror="alert(1)"><script>alert(2)</script> ' +
      "![tracker](http://example.com/pixel.gif) and [click](javascript:alert(3))";
    const node = messageView("assistant", hostile, "complete");
    for (const tag of ["img", "script", "a", "iframe"]) expect(node.querySelector(tag)).toBeNull();
    expect(node.textContent).toContain("<script>alert(2)</script>");
    expect(node.querySelector(".md-image")?.textContent).toBe("[image: tracker]");
    expect(node.querySelector(".md-link")?.textContent).toBe("click");
    expect(node.querySelector(".md-url")?.textContent).toBe(" (javascript:alert(3))");
  });

  it("leaves the user's own words and a streaming reply as plain text", () => {
    expect(messageView("user", "**not bold**", "complete").querySelector("strong")).toBeNull();
    expect(messageView("assistant", "**so far**", "streaming").querySelector("strong")).toBeNull();
    expect(messageView("assistant", "**done**", "interrupted").querySelector("strong")?.textContent).toBe("done");
  });

  it("leaves snake_case names alone", () => {
    expect(html("call my_long_name now").querySelector("em")).toBeNull();
  });

  it("highlights only whole keywords, in any language", () => {
    const spans = highlight("let letter = 'x'; // note", "js").filter((n) => n instanceof HTMLElement) as HTMLElement[];
    expect(spans.map((s) => [s.className, s.textContent])).toEqual([
      ["tok-keyword", "let"],
      ["tok-string", "'x'"],
      ["tok-comment", "// note"],
    ]);
  });

  it("renders GitHub tables and nested lists", () => {
    const d = html("| name | role |\n|:---|---:|\n| Ada | maths |\n\n- fruit\n  - apple\n  - pear\n- bread\n\nTasks:\n\n- [x] done\n- [ ] to do");
    expect([...d.querySelectorAll("th")].map((t) => t.textContent)).toEqual(["name", "role"]);
    expect([...d.querySelectorAll("td")].map((t) => t.textContent)).toEqual(["Ada", "maths"]);
    expect(d.querySelector<HTMLElement>("td:last-child")?.style.textAlign).toBe("right");
    const outer = d.querySelector("ul");
    expect(outer?.querySelectorAll(":scope > li")).toHaveLength(2);
    expect([...(outer?.querySelectorAll("li ul li") ?? [])].map((li) => li.textContent)).toEqual(["apple", "pear"]);
    expect([...d.querySelectorAll(".md-task")].map((t) => t.textContent)).toEqual(["\u2611 ", "\u2610 "]);
    expect(d.querySelectorAll("ul")[2]?.textContent).toBe("\u2611 done\u2610 to do");
  });
});
