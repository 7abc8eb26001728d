// The chat's stylesheet, bundled into the script as text and adopted as a constructed
// stylesheet: no extra request before the first paint, and nothing a page's
// Content-Security-Policy (style-src) has to allow.

import chatCss from "./chat.css";
import dropinCss from "./dropin.css";

let sheet = null;
let dropin = null;

/** One CSSStyleSheet shared by every chat element on the page. */
export function chatSheet() {
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(chatCss);
  }
  return sheet;
}

/** The styles of ChatKit.js's options (header actions, disclaimer, tags, pinned tools, theme hooks). */
export function dropinSheet() {
  if (!dropin) {
    dropin = new CSSStyleSheet();
    dropin.replaceSync(dropinCss);
  }
  return dropin;
}

/** Add sheets to a shadow root or document, keeping what is already adopted. */
export function adopt(target, ...sheets) {
  const current = target.adoptedStyleSheets;
  target.adoptedStyleSheets = [...current, ...sheets.filter((s) => !current.includes(s))];
}
