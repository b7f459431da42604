// Markdown from the model, parsed by `marked` (GitHub's dialect: tables,
// nested and task lists, strikethrough) and rendered by building DOM nodes
// from its tokens: every piece of model text goes in as a text node, so
// raw HTML in a reply shows as text, images never load (their alt text is
// shown), and links do not navigate the window (the address is shown
// beside the link text).
import { Lexer, type Token, type Tokens } from "marked";
import { el } from "./dom";

const OPTIONS = { gfm: true, breaks: true };

/** Renders `src` into block elements. Safe for text still streaming in. */
export function renderMarkdown(src: string): DocumentFragment {
  const out = document.createDocumentFragment();
  out.append(...blocks(Lexer.lex(src, OPTIONS)));
  return out;
}

function blocks(tokens: Token[]): Node[] {
  return tokens.flatMap((t) => block(t));
}

function block(t: Token): Node[] {
  switch (t.type) {
    case "heading": {
      const level = Math.min(6, (t as Tokens.Heading).depth + 2);
      return [el(`h${level}` as "h3", {}, ...inline((t as Tokens.Heading).tokens))];
    }
    case "paragraph":
      return [el("p", {}, ...inline((t as Tokens.Paragraph).tokens))];
    case "code":
      return [codeBlock((t as Tokens.Code).text, ((t as Tokens.Code).lang ?? "").split(/\s/)[0].toLowerCase())];
    case "blockquote":
      return [el("blockquote", {}, ...blocks((t as Tokens.Blockquote).tokens))];
    case "hr":
      return [el("hr")];
    case "list":
      return [list(t as Tokens.List)];
    case "table":
      return [table(t as Tokens.Table)];
    case "space":
      return [];
    case "text": {
      const text = t as Tokens.Text;
      return text.tokens ? inline(text.tokens) : [document.createTextNode(text.text)];
    }
    default:
      // Raw HTML and anything else: its own text, never markup.
      return [el("p", {}, "raw" in t ? String(t.raw) : "")];
  }
}

function list(t: Tokens.List): HTMLElement {
  const node = el(t.ordered ? "ol" : "ul");
  if (t.ordered && typeof t.start === "number" && t.start !== 1) node.setAttribute("start", String(t.start));
  for (const item of t.items) {
    const li = el("li");
    if (item.task) li.append(el("span", { class: "md-task" }, item.checked ? "\u2611 " : "\u2610 "));
    // A tight list's items hold text tokens; a loose one's, paragraphs.
    for (const child of item.tokens) {
      if (child.type === "checkbox") continue;
      li.append(...block(child));
    }
    node.append(li);
  }
  return node;
}

function table(t: Tokens.Table): HTMLElement {
  const cell = (tag: "th" | "td", c: Tokens.TableCell) => {
    const node = el(tag, {}, ...inline(c.tokens));
    if (c.align) node.style.textAlign = c.align;
    return node;
  };
  return el(
    "div",
    { class: "md-table" },
    el(
      "table",
      {},
      el("thead", {}, el("tr", {}, ...t.header.map((c) => cell("th", c)))),
      el("tbody", {}, ...t.rows.map((row) => el("tr", {}, ...row.map((c) => cell("td", c))))),
    ),
  );
}

/**
 * Inline tokens: code spans, images (as text), links (address shown),
 * bold, italic, strikethrough, line breaks; raw HTML as its text.
 */
function inline(tokens: Token[] | undefined): Node[] {
  const nodes: Node[] = [];
  for (const t of tokens ?? []) {
    switch (t.type) {
      case "strong":
        nodes.push(el("strong", {}, ...inline((t as Tokens.Strong).tokens)));
        break;
      case "em":
        nodes.push(el("em", {}, ...inline((t as Tokens.Em).tokens)));
        break;
      case "del":
        nodes.push(el("del", {}, ...inline((t as Tokens.Del).tokens)));
        break;
      case "codespan":
        nodes.push(el("code", {}, (t as Tokens.Codespan).text));
        break;
      case "br":
        nodes.push(el("br"));
        break;
      case "checkbox":
        // Shown as the list item's mark.
        break;
      case "image": {
        const alt = (t as Tokens.Image).text;
        nodes.push(el("span", { class: "md-image" }, `[image${alt ? `: ${alt}` : ""}]`));
        break;
      }
      case "link": {
        const link = t as Tokens.Link;
        nodes.push(el("span", { class: "md-link" }, ...inline(link.tokens)));
        if (link.href && link.href !== link.text) nodes.push(el("span", { class: "md-url" }, ` (${link.href})`));
        break;
      }
      case "text": {
        const text = t as Tokens.Text;
        if (text.tokens) nodes.push(...inline(text.tokens));
        else nodes.push(document.createTextNode(text.text));
        break;
      }
      default:
        nodes.push(document.createTextNode("text" in t && typeof t.text === "string" && t.type === "escape" ? t.text : String(t.raw)));
    }
  }
  return nodes;
}

const KEYWORDS = new Set(
  (
    "fn let mut const var function return if else elif for while loop in of do break continue match case " +
    "switch default def class struct enum impl trait pub use mod import from export as async await yield " +
    "try catch except finally raise throw new this self super static type interface extends implements " +
    "public private protected void int float double bool boolean char string str true false null None True " +
    "False nil undefined and or not lambda with where select insert update delete create table echo then fi"
  ).split(" "),
);

const HASH_COMMENTS = new Set(["python", "py", "sh", "bash", "shell", "zsh", "ruby", "rb", "yaml", "yml", "toml", "r", "perl"]);

/** Splits code into highlighted spans: comments, strings, numbers, keywords. */
export function highlight(code: string, lang: string): Node[] {
  const comment = HASH_COMMENTS.has(lang) ? "#[^\\n]*" : "\\/\\/[^\\n]*|\\/\\*[\\s\\S]*?\\*\\/";
  const token = new RegExp(
    `(${comment})|("(?:[^"\\\\\\n]|\\\\.)*"|'(?:[^'\\\\\\n]|\\\\.)*'|\`(?:[^\`\\\\]|\\\\.)*\`)|(\\b\\d[\\d_.]*(?:e[+-]?\\d+)?\\b)|([A-Za-z_][A-Za-z0-9_]*)`,
    "g",
  );
  const nodes: Node[] = [];
  let last = 0;
  for (const m of code.matchAll(token)) {
    const at = m.index ?? 0;
    const kind = m[1] ? "comment" : m[2] ? "string" : m[3] ? "number" : KEYWORDS.has(m[4]) ? "keyword" : null;
    if (!kind) continue;
    if (at > last) nodes.push(document.createTextNode(code.slice(last, at)));
    nodes.push(el("span", { class: `tok-${kind}` }, m[0]));
    last = at + m[0].length;
  }
  if (last < code.length) nodes.push(document.createTextNode(code.slice(last)));
  return nodes;
}

function codeBlock(code: string, lang: string): HTMLElement {
  const pre = el("pre", {}, el("code", lang ? { class: `lang-${lang}` } : {}, ...highlight(code, lang)));
  const copy = el("button", { class: "copy-code", type: "button", "aria-label": "Copy code" }, "Copy");
  copy.addEventListener("click", () => {
    void copyText(code).then((ok) => {
      copy.textContent = ok ? "Copied" : "Copy failed";
      setTimeout(() => (copy.textContent = "Copy"), 1500);
    });
  });
  const head = el("div", { class: "code-head" }, el("span", { class: "code-lang" }, lang || "code"), copy);
  return el("div", { class: "code-block" }, head, pre);
}

async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Older web views: a hidden text area and the copy command.
    const area = el("textarea", { "aria-hidden": "true" });
    area.value = text;
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.append(area);
    area.select();
    const ok = document.execCommand("copy");
    area.remove();
    return ok;
  }
}
