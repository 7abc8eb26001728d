// Markdown for assistant text, tasks, notices and Markdown widgets: CommonMark and GitHub's
// tables through markdown-it, math through markdown-it-texmath, then DOMPurify.
//
// Why this shape:
// - Safety: markdown-it runs with raw HTML off (a model's "<script>" stays text), links are
//   kept only for http(s) and mailto, and the HTML it makes still goes through DOMPurify
//   before it reaches the page, so a bug in any one layer does not open the page to script.
// - Size: highlight.js and KaTeX are large and most answers need neither. The first render
//   leaves code as plain text and math as its TeX; rich.js (a separate bundle next to this
//   script) is loaded the first time either appears and upgrades the nodes in place.
// - Streaming: an item is re-rendered on every delta, so a half-written table, fence or
//   formula must render sensibly: an unclosed fence is a code block up to the end, an
//   unclosed `$` stays text until its closing `$` arrives.

import MarkdownIt from "markdown-it";
import texmath from "markdown-it-texmath";
import DOMPurify from "dompurify";
import { adopt } from "./styles.js";
import { SCRIPT_URL } from "./origin.js";

export function escapeHtml(text) {
  return String(text ?? "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** The URL if it is safe to put in an href, else null. */
export function safeUrl(url) {
  try {
    const parsed = new URL(url, location.href);
    return ["http:", "https:", "mailto:"].includes(parsed.protocol) ? parsed.href : null;
  } catch {
    return null;
  }
}

// Math is left as its TeX in a marked span; rich.js typesets it (see upgrade()).
const mathPlaceholder = {
  renderToString(tex, options) {
    const display = options && options.displayMode ? "1" : "0";
    return `<span class="ck-math" data-display="${display}">${escapeHtml(tex)}</span>`;
  },
};

const md = new MarkdownIt({ html: false, linkify: true, breaks: false, typographer: false });
md.use(texmath, { engine: mathPlaceholder, delimiters: ["dollars", "brackets"] });
// ChatKit's deeplinks (chatkit-link://name?key=value) stay links: the element turns a click
// on one into a chatkit.deeplink event for the page, and never navigates.
const DEEPLINK = /^chatkit-link:\/\//i;
const linkAllowed = (url) => DEEPLINK.test(url || "") || safeUrl(url) !== null;
md.validateLink = linkAllowed;

// The chat has its own h2 (the thread's title): markdown headings start at h3.
md.renderer.rules.heading_open = (tokens, i) => `<h${Math.min(6, Number(tokens[i].tag.slice(1)) + 2)}>`;
md.renderer.rules.heading_close = (tokens, i) => `</h${Math.min(6, Number(tokens[i].tag.slice(1)) + 2)}>`;

// Links open in a new tab and never hand the opener over.
md.renderer.rules.link_open = (tokens, i, options, env, self) => {
  tokens[i].attrSet("target", "_blank");
  tokens[i].attrSet("rel", "noopener noreferrer");
  return self.renderToken(tokens, i, options);
};

// A picture in markdown would fetch from any host the model names; it becomes a link to it.
md.renderer.rules.image = (tokens, i) => {
  const token = tokens[i];
  const href = safeUrl(token.attrGet("src"));
  const alt = escapeHtml(token.content || token.attrGet("src"));
  return href ? `<a href="${escapeHtml(href)}" target="_blank" rel="noopener noreferrer">${alt}</a>` : alt;
};

// Fenced and indented code: a labelled block; rich.js colours it and the chat adds a copy button.
md.renderer.rules.fence = (tokens, i) => {
  const token = tokens[i];
  const lang = (token.info || "").trim().split(/\s+/)[0].replace(/[^\w+#.-]/g, "");
  const label = lang ? `<span class="ck-code-lang">${escapeHtml(lang)}</span>` : "";
  const langAttr = lang ? ` data-lang="${escapeHtml(lang)}"` : "";
  return `<div class="ck-code"><div class="ck-code-head">${label}</div><pre><code${langAttr}>${escapeHtml(token.content.replace(/\n$/, ""))}</code></pre></div>`;
};
md.renderer.rules.code_block = md.renderer.rules.fence;

// A column's alignment (`|:--|--:|`) as a class, not markdown-it's style attribute: the chat
// runs in pages whose Content-Security-Policy allows no inline styles.
md.core.ruler.push("ck_align_classes", (state) => {
  for (const token of state.tokens) {
    const style = (token.type === "th_open" || token.type === "td_open") && token.attrGet("style");
    const align = style && /^text-align:(left|center|right)$/.exec(style);
    if (!align) continue;
    token.attrs = token.attrs.filter(([name]) => name !== "style");
    token.attrJoin("class", `ck-align-${align[1]}`);
  }
});

// Wide tables scroll sideways inside the message instead of widening the chat.
md.renderer.rules.table_open = () => '<div class="ck-table-wrap"><table>';
md.renderer.rules.table_close = () => "</table></div>";

const PURIFY = {
  ADD_ATTR: ["target"],
  // DOMPurify's own URL rule, plus chatkit-link: (the hook below then allows only these and safeUrl's).
  ALLOWED_URI_REGEXP: /^(?:(?:https?|mailto|chatkit-link):|[^a-z]|[a-z+.-]+(?:[^a-z+.\-:]|$))/i,
  // markdown-it makes none of these with raw HTML off; should one slip through, it goes.
  FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select", "img", "video", "audio", "iframe"],
};

// KaTeX's output: positioned spans with inline styles, and MathML for screen readers (whose
// <annotation> holds the TeX; never annotation-xml, an HTML integration point).
const MATH_PURIFY = { USE_PROFILES: { html: true, mathMl: true, svg: true }, ADD_TAGS: ["semantics", "annotation"], FORBID_TAGS: ["a", "img"] };

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A") {
    if (!node.getAttribute("href") || !linkAllowed(node.getAttribute("href"))) node.removeAttribute("href");
    node.setAttribute("rel", "noopener noreferrer");
  }
});

const FENCE = /^\s{0,3}(`{3,}|~{3,})/;
const TABLE_ROW = /^\s{0,3}\|/;
const DELIMITER_ROW = /^\s{0,3}\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;

/**
 * The part of a streaming answer to show now: its unfinished tail is held back where it would
 * flash as raw syntax and then jump — a table whose delimiter row (`|---|---|`) is not complete
 * yet (header and all), and a display formula (`$$`, `\[`) not yet closed. Code fences need
 * nothing (an unclosed fence is a code block to the end) and a lone inline `$` stays text (it may
 * be a price). The finished answer is rendered whole.
 */
export function streamingPart(source) {
  const text = String(source ?? "");
  const lines = text.split("\n");
  // Where display math may open: outside code fences, line by line.
  let fence = null;
  let offset = 0;
  let mathOpen = -1; // offset of the unclosed opener, or -1
  for (const line of lines) {
    const opener = line.match(FENCE);
    if (fence) {
      if (opener && opener[1][0] === fence[0] && opener[1].length >= fence.length) fence = null;
    } else if (opener) {
      fence = opener[1];
    } else {
      for (const m of line.matchAll(/\$\$|\\\[|\\\]/g)) {
        const at = offset + m.index;
        if (m[0] === "$$") mathOpen = mathOpen === -1 ? at : -1;
        else if (m[0] === "\\[" && mathOpen === -1) mathOpen = at;
        else if (m[0] === "\\]") mathOpen = -1;
      }
    }
    offset += line.length + 1;
  }
  if (fence) return text; // inside a code block: shown as it grows
  if (mathOpen !== -1) return text.slice(0, mathOpen);
  // Trailing table lines (each starting with "|"): held back until the delimiter row is whole
  // (a line after it has begun: until then "|--" may still become "|---|---|").
  const ended = lines[lines.length - 1] === ""; // the text ends with a newline
  const end = ended ? lines.length - 1 : lines.length;
  let first = end;
  while (first > 0 && TABLE_ROW.test(lines[first - 1])) first -= 1;
  const rows = lines.slice(first, end);
  if (!rows.length) return text;
  const established = rows.length >= 2 && DELIMITER_ROW.test(rows[1]) && (rows.length > 2 || ended);
  return established ? text : lines.slice(0, first).join("\n");
}

/** Markdown source -> sanitized HTML (code uncoloured, math as TeX until rich.js upgrades it). */
export function markdownToHtml(source) {
  return DOMPurify.sanitize(md.render(String(source ?? "")), PURIFY);
}

// -- rich.js: highlight.js and KaTeX, loaded on first need --------------------------------

// Where this script was loaded from: rich.js sits next to it. A classic script knows its
// own URL only while it first runs (document.currentScript); shared chunks of chatkitd's
// pages live one folder down, in chunks/.
const RICH_URL = new URL(/\/chunks\/[^/]*$/.test(new URL(SCRIPT_URL).pathname) ? "../rich.js" : "rich.js", SCRIPT_URL).href;

let rich = null; // the loaded module
let loading = null;
const waiting = new Set(); // nodes rendered before rich.js arrived

function loadRich() {
  if (!loading) {
    loading = import(/* webpackIgnore: true */ RICH_URL)
      .then((module) => {
        rich = module;
        adopt(document, rich.fontSheet(RICH_URL));
        for (const el of waiting) upgrade(el);
        waiting.clear();
      })
      .catch((error) => {
        console.warn("chatkitd: could not load rich.js (code colours and math):", error);
      });
  }
  return loading;
}

// KaTeX positions its spans with style attributes. Parsed as HTML, those break a page whose
// Content-Security-Policy allows no inline styles (the chat runs in integrators' pages): they
// are parsed as data attributes instead and set through the CSSOM, which CSP does not govern.
// KaTeX writes ` style="…"` only as markup (a quote in text or a value is escaped).
const STYLE_ATTR = / style=(?=")/g;

/** Colour code and typeset math inside `el` (rendered by renderMarkdown). */
function upgrade(el) {
  for (const code of el.querySelectorAll("code[data-lang]:not([data-highlighted])")) {
    code.innerHTML = DOMPurify.sanitize(rich.highlight(code.textContent, code.dataset.lang), PURIFY);
    code.dataset.highlighted = "1";
  }
  for (const span of el.querySelectorAll(".ck-math:not([data-typeset])")) {
    const html = rich.typeset(span.textContent, span.dataset.display === "1");
    span.innerHTML = DOMPurify.sanitize(html.replace(STYLE_ATTR, " data-ck-style="), MATH_PURIFY);
    for (const node of span.querySelectorAll("[data-ck-style]")) {
      node.style.cssText = node.dataset.ckStyle;
      node.removeAttribute("data-ck-style");
    }
    span.dataset.typeset = "1";
  }
  // Rendered nodes are inserted right after rendering: adopt the styles into wherever they landed.
  queueMicrotask(() => {
    const root = el.getRootNode();
    if (root && "adoptedStyleSheets" in root) adopt(root, ...rich.sheets());
  });
}

/** Put rendered markdown into `el`: code blocks get a copy button; code and math are upgraded. */
export function renderMarkdown(el, source, { copyLabel = "Copy code" } = {}) {
  el.innerHTML = markdownToHtml(source); // sanitized by markdownToHtml
  for (const head of el.querySelectorAll(".ck-code-head")) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "ck-code-copy";
    button.textContent = copyLabel;
    button.addEventListener("click", () => {
      const code = head.nextElementSibling.textContent;
      navigator.clipboard?.writeText(code).catch(() => {});
    });
    head.append(button);
  }
  if (!el.querySelector("code[data-lang], .ck-math")) return el;
  if (rich) upgrade(el);
  else {
    waiting.add(el);
    loadRich();
  }
  return el;
}
