// Builds chatkitd's web UI from chatkitd/web/src and npm packages into chatkitd/web/static.
//
//   npm ci && node chatkitd/web/build.mjs      (the Makefile does both; so does setup.py)
//
// static/ is build output only: it is gitignored, served at /static and shipped
// as package data. Third-party code comes from node_modules, never from a CDN
// and never copied into the repository. Each bundle is one row of BUNDLES; a new
// page or library is a row (or an import in an existing entry), nothing else.

import { build } from "esbuild";
import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SRC = path.join(HERE, "src");
const OUT = path.join(HERE, "static");
const require = createRequire(import.meta.url);

// format "iife" is a classic script (works with <script src async>, before or after
// the page's own code); "esm" bundles are modules and may share lazily loaded chunks.
export const BUNDLES = [
  // The drop-in for ChatKit.js: <openai-chatkit> (and <chatkitd-chat>), loadable like the CDN's file.
  { name: "chatkit", entry: "entries/chatkit.js", format: "iife" },
  // highlight.js and KaTeX, loaded by the chat the first time an answer has code or math.
  { name: "rich", entry: "chat/rich.js", format: "esm" },
  // The same elements as an ES module, for `import` and <script type="module">.
  { name: "chatkitd", entry: "entries/chatkitd.js", format: "esm" },
  // chatkitd's own pages. Admin pages added later are modules imported by admin/pages.js.
  { name: "playground", entry: "playground/main.js", format: "esm", group: "pages" },
  { name: "admin", entry: "admin/main.js", format: "esm", group: "pages" },
];

// Stylesheets served as files (chatkitd's pages link them). The chat's own styles are
// imported by its JavaScript as text and adopted into its shadow root.
export const STYLESHEETS = [{ name: "page", entry: "page.css" }];

/** CSS imported from JavaScript becomes a string (adopted as a constructed stylesheet).
 *
 * `?scope=<selector>` prefixes every rule's selectors (for the two highlight.js
 * themes, one per colour scheme); `?fonts` keeps only KaTeX's @font-face rules, with
 * woff2 sources only; `?rules` keeps everything else. */
const RESOLVING = Symbol("resolving");
const cssAsText = {
  name: "css-as-text",
  setup(b) {
    b.onResolve({ filter: /\.css(\?.*)?$/ }, async (args) => {
      // b.resolve() below runs this callback again: let esbuild's own resolver answer that one.
      if (args.kind === "entry-point" || args.pluginData === RESOLVING) return undefined;
      const [file, query = ""] = args.path.split("?");
      const resolved = await b.resolve(file, { resolveDir: args.resolveDir, kind: args.kind, pluginData: RESOLVING });
      if (resolved.errors.length) return { errors: resolved.errors };
      // The suffix keeps `x.css?fonts` and `x.css?rules` apart: same path, two modules.
      return { path: resolved.path, suffix: query ? `?${query}` : "", namespace: "css-text", pluginData: { query } };
    });
    b.onLoad({ filter: /.*/, namespace: "css-text" }, async (args) => {
      let css = await readFile(args.path, "utf8");
      const query = new URLSearchParams(args.pluginData.query);
      if (query.has("scope")) css = scopeRules(css, query.get("scope"));
      if (query.has("fonts")) css = fontFaces(css);
      if (query.has("rules")) css = css.replace(/@font-face\s*\{[^}]*\}/g, "");
      return { contents: css, loader: "text", watchFiles: [args.path] };
    });
  },
};

// markdown-it-texmath require()s katex when no engine is passed; chatkitd always passes
// a lazy one, so that require must not pull KaTeX into the core bundle.
const noImplicitKatex = {
  name: "no-implicit-katex",
  setup(b) {
    b.onResolve({ filter: /^katex$/ }, (args) =>
      args.importer.includes("markdown-it-texmath") ? { path: "katex", namespace: "empty" } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "empty" }, () => ({ contents: "module.exports = null;", loader: "js" }));
  },
};

function scopeRules(css, scope) {
  css = css.replace(/\/\*[\s\S]*?\*\//g, "");
  return css.replace(/([^{}]+)\{([^{}]*)\}/g, (_, selectors, body) => {
    const scoped = selectors
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) => `${scope} ${s}`)
      .join(",");
    return `${scoped}{${body}}`;
  });
}

function fontFaces(css) {
  const faces = css.match(/@font-face\s*\{[^}]*\}/g) || [];
  return faces.map((face) => face.replace(/src:[^;}]*/, (src) => src.split(/,(?=\s*url)/).filter((u) => u.includes(".woff2")).join(","))).join("\n");
}

const common = {
  bundle: true,
  minify: true,
  target: ["chrome110", "firefox115", "safari16"],
  legalComments: "linked", // the bundled packages' licence notices, next to each bundle
  logLevel: "warning",
  plugins: [cssAsText, noImplicitKatex],
  define: { "process.env.NODE_ENV": '"production"' },
};

async function buildBundles() {
  const jobs = [];
  const pages = BUNDLES.filter((b) => b.group === "pages");
  // chatkitd's pages share their chunks (the chat, the renderer); admin pages may load lazily.
  jobs.push(
    build({
      ...common,
      entryPoints: Object.fromEntries(pages.map((b) => [b.name, path.join(SRC, b.entry)])),
      outdir: OUT,
      format: "esm",
      splitting: true,
      chunkNames: "chunks/[name]-[hash]",
    }),
  );
  for (const bundle of BUNDLES.filter((b) => !b.group)) {
    jobs.push(
      build({
        ...common,
        entryPoints: { [bundle.name]: path.join(SRC, bundle.entry) },
        outdir: OUT,
        format: bundle.format,
        // A classic script has no import.meta; the element finds its URL from document.currentScript.
        define: bundle.format === "iife" ? { ...common.define, "import.meta.url": "undefined" } : common.define,
      }),
    );
  }
  for (const sheet of STYLESHEETS) {
    jobs.push(build({ ...common, plugins: [], entryPoints: { [sheet.name]: path.join(SRC, sheet.entry) }, outdir: OUT }));
  }
  await Promise.all(jobs);
}

/** KaTeX's fonts (woff2 only; every browser chatkitd supports reads it) next to rich.js. */
async function copyKatexFonts() {
  const dir = path.join(path.dirname(require.resolve("katex/package.json")), "dist", "fonts");
  await mkdir(path.join(OUT, "fonts"), { recursive: true });
  const css = await readFile(path.join(dir, "..", "katex.min.css"), "utf8");
  const names = new Set([...css.matchAll(/fonts\/([\w-]+\.woff2)/g)].map((m) => m[1]));
  await Promise.all([...names].map((name) => copyFile(path.join(dir, name), path.join(OUT, "fonts", name))));
}

await rm(OUT, { recursive: true, force: true });
await mkdir(OUT, { recursive: true });
await Promise.all([buildBundles(), copyKatexFonts()]);
// Written last: chatkitd serves the UI once it exists, and the Makefile and setup.py
// compare its time with the sources'. It records which packages went into the bundles.
const lock = JSON.parse(await readFile(path.join(HERE, "..", "..", "package-lock.json"), "utf8"));
const packages = Object.fromEntries(
  Object.entries(lock.packages)
    .filter(([where, info]) => where.startsWith("node_modules/") && !info.dev)
    .map(([where, info]) => [where.slice("node_modules/".length), info.version]),
);
await writeFile(path.join(OUT, "build.json"), `${JSON.stringify({ built_at: new Date().toISOString(), packages }, null, 2)}\n`);
