// What @openai/chatkit's types declare, and what chatkitd's option reader makes of each.
//
//   node tests/support/chatkit_types.mjs        (tests/test_chatkit_types.py runs it)
//
// Reads the installed @openai/chatkit (an npm dev dependency; its types are never copied
// into the repository) with the TypeScript compiler: every option path of ChatKitOptions,
// nested objects and array elements included (`composer.tools[].icon`), with the literal
// values a path allows; the element's methods; and its events. Then it bundles
// chatkitd/web/src/chat/options.js with esbuild and passes it, for each path (and each
// literal value), an options object setting just that, recording what it reports as
// unsupported. Prints one JSON object.

import { build } from "esbuild";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const PACKAGE = path.join(ROOT, "node_modules", "@openai", "chatkit");
const manifest = JSON.parse(readFileSync(path.join(PACKAGE, "package.json"), "utf8"));
const TYPES = path.join(PACKAGE, manifest.types);

const program = ts.createProgram([TYPES], { strict: true, noEmit: true });
const checker = program.getTypeChecker();
const declarations = new Map();
ts.forEachChild(program.getSourceFile(TYPES), (node) => {
  if ((ts.isTypeAliasDeclaration(node) || ts.isInterfaceDeclaration(node)) && node.name) declarations.set(node.name.text, node);
});
const typeNamed = (name) => checker.getTypeAtLocation(declarations.get(name).name);

/** Every option path of ChatKitOptions: {path, values (string/number literals), function, object}. */
function optionPaths() {
  const found = new Map();
  const entry = (at) => {
    if (!found.has(at)) found.set(at, { path: at, values: [], function: false, object: false });
    return found.get(at);
  };
  const walk = (type, at, depth) => {
    if (depth > 10) throw new Error(`option types nest deeper than expected at ${at}`);
    for (const member of type.isUnion() ? type.types : [type]) {
      const flags = member.getFlags();
      if (member.isStringLiteral() || member.isNumberLiteral()) entry(at).values.push(member.value);
      else if (member.getCallSignatures().length) entry(at).function = true;
      else if (checker.isArrayType(member)) walk(checker.getTypeArguments(member)[0], `${at}[]`, depth + 1);
      else if (flags & ts.TypeFlags.Object) {
        const properties = checker.getPropertiesOfType(member);
        if (!properties.length) continue; // a record (`accept`, `maxSize`'s per-type form)
        if (at) entry(at).object = true;
        for (const property of properties) {
          const child = at ? `${at}.${property.name}` : property.name;
          entry(child);
          walk(checker.getTypeOfSymbol(property), child, depth + 1);
        }
      }
    }
  };
  walk(typeNamed("ChatKitOptions"), "", 0);
  return [...found.values()];
}

/** The element's own methods (not HTMLElement's, not the event listener pair). */
function methods() {
  return checker
    .getPropertiesOfType(typeNamed("OpenAIChatKit"))
    .filter((symbol) => symbol.declarations.some((d) => d.parent === declarations.get("OpenAIChatKit")))
    .map((symbol) => symbol.name)
    .filter((name) => !name.endsWith("EventListener"));
}

function events() {
  return checker.getPropertiesOfType(typeNamed("ChatKitEvents")).map((symbol) => symbol.name);
}

/** A value for a path in a sample options object. */
function sampleValue(option) {
  if (option.function) return () => undefined;
  if (option.object) return {};
  return "x";
}

// `api` is the one option ChatKit.js requires: every sample has one (the custom style's url).
const REQUIRED = { api: { url: "x" } };

function merged(base, extra) {
  if (!base || typeof base !== "object" || !extra || typeof extra !== "object" || Array.isArray(extra)) return extra;
  const out = { ...base };
  for (const [key, value] of Object.entries(extra)) out[key] = key in base ? merged(base[key], value) : value;
  return out;
}

/** `{a: {b: [{c: value}]}}` for the path `a.b[].c` (with the required `api`). */
function optionsSetting(at, value) {
  const steps = at.split(".");
  const build = (index) => {
    if (index === steps.length) return value;
    const name = steps[index].replace(/(\[\])+$/, "");
    const depth = (steps[index].length - name.length) / 2;
    let inner = build(index + 1);
    for (let i = 0; i < depth; i++) inner = [inner];
    return { [name]: inner };
  };
  return merged(REQUIRED, build(0));
}

async function loadReader() {
  const dir = await mkdtemp(path.join(tmpdir(), "chatkit-types-"));
  const out = path.join(dir, "options.mjs");
  await build({
    entryPoints: [path.join(ROOT, "chatkitd", "web", "src", "chat", "options.js")],
    bundle: true,
    format: "esm",
    platform: "node",
    outfile: out,
    logLevel: "error",
    loader: { ".css": "text" },
  });
  const reader = await import(pathToFileURL(out).href);
  await rm(dir, { recursive: true, force: true });
  return reader;
}

const reader = await loadReader();
const options = optionPaths().map((option) => {
  // A path with literal values is tried with each of them; another with a value of its kind.
  const reports = {};
  if (!option.values.length) reports[""] = reader.readOptions(optionsSetting(option.path, sampleValue(option))).unsupported;
  for (const value of option.values) reports[String(value)] = reader.readOptions(optionsSetting(option.path, value)).unsupported;
  return { ...option, reports };
});
// @openai/chatkit-react's handler names for the events (its dist is plain JavaScript).
const react = readFileSync(path.join(ROOT, "node_modules", "@openai", "chatkit-react", "dist", "index.js"), "utf8");
const reactHandlers = Object.fromEntries([...react.matchAll(/"(chatkit\.[\w.]+)":\s*"(on\w+)"/g)].map((m) => [m[1], m[2]]));
const reactMethods = [...(react.match(/CHATKIT_METHOD_NAMES = Object\.freeze\(\[([^\]]*)\]/) || ["", ""])[1].matchAll(/"(\w+)"/g)].map((m) => m[1]);

const unknown = reader.readOptions({
  notAnOption: 1,
  composer: { notAnOption: 1, tools: [{ id: "t", label: "T", icon: "search", notAnOption: 1 }] },
}).unsupported;

process.stdout.write(
  JSON.stringify({
    version: manifest.version,
    options,
    methods: methods(),
    events: events(),
    read: reader.OPTION_PATHS,
    unsupported: Object.keys(reader.UNSUPPORTED_OPTIONS),
    partly: Object.keys(reader.PARTLY_SUPPORTED_OPTIONS),
    unknown,
    eventCallbacks: reader.EVENT_CALLBACKS,
    reactHandlers,
    reactMethods,
  }),
);
