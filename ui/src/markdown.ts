// Markdown from the model, rendered by building DOM nodes: every piece of
// model text goes in as a text node, so raw HTML in a reply shows as text,
// images never load (their alt text is shown), and links do not navigate
// the window (the address is shown beside the link text).
import { el } from "./dom";

/** Renders `src` into block elements. Safe for text still streaming in. */
export function renderMarkdown(src: string): DocumentFragment {
  const out = document.createDocumentFragment();
  const lines = src.replace(/\r\n?/g, "\n").split("\n");
  let i = 0;
  let paragraph: string[] = [];
  const flush = () => {
    if (paragraph.length) out.append(inlineBlock("p", paragraph.join("\n")));
    paragraph = [];
  };
  while (i < lines.length) {
    const line = lines[i];
    const fence = /^\s*(```+|~~~+)\s*([\w+#.-]*)\s*$/.exec(line);
    if (fence) {
      flush();
      const code: string[] = [];
      i++;
      while (i < lines.length && !lines[i].trim().startsWith(fence[1])) code.push(lines[i++]);
      i++; // the closing fence (absent while a reply is still streaming)
      out.append(codeBlock(code.join("\n"), fence[2].toLowerCase()));
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      flush();
      const level = Math.min(6, heading[1].length + 2);
      out.append(inlineBlock(`h${level}` as "h3", heading[2].replace(/\s#+\s*$/, "")));
      i++;
      continue;
    }
    if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) {
      flush();
      out.append(el("hr"));
      i++;
      continue;
    }
    const item = /^\s*([-*+]|\d{1,9}[.)])\s+(.*)$/.exec(line);
    if (item) {
      flush();
      const ordered = /\d/.test(item[1]);
      const list = el(ordered ? "ol" : "ul");
      if (ordered) {
        const start = parseInt(item[1], 10);
        if (start !== 1) list.setAttribute("start", String(start));
      }
      while (i < lines.length) {
        const m = /^\s*([-*+]|\d{1,9}[.)])\s+(.*)$/.exec(lines[i]);
        if (!m || /\d/.test(m[1]) !== ordered) break;
        list.append(inlineBlock("li", m[2]));
        i++;
      }
      out.append(list);
      continue;
    }
    if (/^\s*>/.test(line)) {
      flush();
      const quoted: string[] = [];
      while (i < lines.length && /^\s*>/.test(lines[i])) quoted.push(lines[i++].replace(/^\s*>\s?/, ""));
      const quote = el("blockquote");
      quote.append(renderMarkdown(quoted.join("\n")));
      out.append(quote);
      continue;
    }
    if (line.trim() === "") flush();
    else paragraph.push(line);
    i++;
  }
  flush();
  return out;
}

function inlineBlock<K extends "p" | "li" | "h3" | "h4" | "h5" | "h6">(tag: K, text: string): HTMLElement {
  const node = el(tag);
  node.append(...inline(text));
  return node;
}

const INLINE =
  /(`+)([\s\S]*?[^`])\1(?!`)|!\[([^\]]*)\]\(((?:[^()\s]|\([^()\s]*\))*)[^)]*\)|\[([^\]]+)\]\(((?:[^()\s]|\([^()\s]*\))*)[^)]*\)|(\*\*|__)(?=\S)([\s\S]*?\S)\7|(\*)(?=\S)([\s\S]*?\S)\9|\n/g;

/**
 * Inline Markdown: code spans, images (as text), links (address shown),
 * bold, italic (`*x*` only: `snake_case_names` stay as written), line breaks.
 */
export function inline(text: string): Node[] {
  const nodes: Node[] = [];
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    const at = m.index ?? 0;
    if (at > last) nodes.push(document.createTextNode(text.slice(last, at)));
    last = at + m[0].length;
    if (m[1]) nodes.push(el("code", {}, m[2].trim() === "" ? m[2] : m[2].trim()));
    else if (m[3] !== undefined) nodes.push(el("span", { class: "md-image" }, `[image${m[3] ? `: ${m[3]}` : ""}]`));
    else if (m[5] !== undefined) {
      const link = el("span", { class: "md-link" }, ...inline(m[5]));
      nodes.push(link);
      if (m[6] && m[6] !== m[5]) nodes.push(el("span", { class: "md-url" }, ` (${m[6]})`));
    } else if (m[7]) nodes.push(el("strong", {}, ...inline(m[8])));
    else if (m[9]) nodes.push(el("em", {}, ...inline(m[10])));
    else nodes.push(el("br"));
  }
  if (last < text.length) nodes.push(document.createTextNode(text.slice(last)));
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
