// rich.js: what only some answers need, loaded by markdown.js the first time a code block
// with a language or a formula appears: highlight.js (its common languages) and KaTeX,
// with their stylesheets. Built as its own bundle next to chatkit.js (build.mjs).

import hljs from "highlight.js/lib/common";
import katex from "katex";
import lightTheme from "highlight.js/styles/a11y-light.css";
import darkTheme from "highlight.js/styles/a11y-dark.css?scope=[data-scheme=dark]";
import katexRules from "katex/dist/katex.css?rules";
import katexFonts from "katex/dist/katex.css?fonts";

/** Code -> highlighted HTML (highlight.js escapes the code); unknown languages stay plain. */
export function highlight(code, lang) {
  const language = hljs.getLanguage(lang) ? lang : "plaintext";
  return hljs.highlight(code, { language, ignoreIllegals: true }).value;
}

/** TeX -> KaTeX's HTML and MathML. A bad formula shows its source in red, never throws. */
export function typeset(tex, displayMode) {
  return katex.renderToString(tex, { displayMode, throwOnError: false, trust: false, strict: "ignore", output: "htmlAndMathml" });
}

let shared = null;

/** Stylesheets for wherever rendered markdown lives (a chat's shadow root, a page). */
export function sheets() {
  if (!shared) {
    shared = [lightTheme, darkTheme, katexRules].map((css) => {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      return sheet;
    });
  }
  return shared;
}

let fonts = null;

/** KaTeX's @font-face rules, for the document (shadow roots cannot declare fonts); the
 * font files sit in fonts/ next to rich.js (`baseURL`). */
export function fontSheet(baseURL) {
  if (!fonts) {
    // Absolute URLs: a constructed sheet's relative URLs would resolve against the page.
    const dir = new URL("fonts/", baseURL).href;
    fonts = new CSSStyleSheet();
    fonts.replaceSync(katexFonts.replace(/url\((["']?)fonts\//g, `url($1${dir}`));
  }
  return fonts;
}
