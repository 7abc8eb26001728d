// ChatKit.js's options (the `ChatKitOptions` type of @openai/chatkit), read into the one
// shape the chat works from, plus a list of what chatkitd cannot honour.
//
// A page written for OpenAI's <openai-chatkit> passes its options unchanged; an
// option chatkitd does not implement is named in `unsupported` (the element reports
// each once, through chatkit.log and console.warn) and otherwise ignored: never a crash.
// chatkitd's own earlier spellings (`theme.accent`, `onResponseEnd`, ...) still work.

import { knownIcon } from "./chatkit-icons.js";
import { matchLocale } from "./i18n.js";

// Every option path chatkitd reads, as ChatKit.js's types name them (`[]` is an array's
// element). A key of one of these objects that is not listed is reported as unsupported;
// tests/test_chatkit_types.py checks this table against the installed @openai/chatkit types.
const TOP = new Set([
  "api", "locale", "theme", "frameTitle", "initialThread", "onClientTool", "header", "history",
  "startScreen", "threadItemActions", "composer", "disclaimer", "entities", "commands", "widgets", "thread",
  // chatkitd's own callbacks (ChatKit.js has DOM events for these; both work)
  "onReady", "onError", "onLog", "onEffect", "onDeeplink", "onResponseStart", "onResponseEnd",
  "onThreadChange", "onThreadLoadStart", "onThreadLoadEnd", "onToolChange", "onHistoryOpen", "onHistoryClose",
]);
const KEYS = {
  api: ["url", "fetch", "domainKey", "uploadStrategy", "getClientSecret"],
  "api.uploadStrategy": ["type", "uploadUrl"],
  theme: ["colorScheme", "typography", "radius", "density", "color", "accent"],
  "theme.typography": ["baseSize", "fontSources", "fontFamily", "fontFamilyMono"],
  "theme.typography.fontSources[]": ["family", "src", "weight", "style", "display", "unicodeRange"],
  "theme.color": ["grayscale", "accent", "surface"],
  "theme.color.grayscale": ["hue", "tint", "shade"],
  "theme.color.accent": ["primary", "level"],
  "theme.color.surface": ["background", "foreground"],
  header: ["enabled", "title", "leftAction", "rightAction"],
  "header.title": ["enabled", "text"],
  "header.leftAction": ["icon", "onClick"],
  "header.rightAction": ["icon", "onClick"],
  history: ["enabled", "showDelete", "showRename"],
  startScreen: ["greeting", "prompts"],
  "startScreen.prompts[]": ["label", "prompt", "icon"],
  "startScreen.prompts[].prompt[]": ["type", "text", "id", "group", "data", "interactive"],
  threadItemActions: ["feedback", "retry"],
  composer: ["placeholder", "attachments", "tools", "models", "dictation"],
  "composer.attachments": ["enabled", "maxSize", "maxCount", "accept"],
  "composer.tools[]": ["id", "label", "icon", "shortLabel", "placeholderOverride", "pinned", "persistent"],
  "composer.models[]": ["id", "label", "description", "disabled", "default"],
  "composer.dictation": ["enabled"],
  disclaimer: ["text", "highContrast"],
  entities: ["onTagSearch", "showComposerMenu", "onClick", "onRequestPreview"],
  commands: ["enabled", "onSearch", "onSelect"],
  widgets: ["onAction", "allowedImageDomains"],
  thread: ["autoScroll"],
};

/** ChatKit.js options chatkitd does not implement: each is reported once when a page sets it.
 *  (The test against @openai/chatkit's types fails on an option neither read nor listed here.) */
export const UNSUPPORTED_OPTIONS = {};

/** Options chatkitd reads, some of whose values it cannot honour: such a value is reported
 *  as `path=value` (and the chat does what the comment says instead). */
export const PARTLY_SUPPORTED_OPTIONS = {
  locale: "languages without a translation in chat/locales/ fall back to English (Traditional Chinese to Simplified)",
};

/** Every option path chatkitd reads (`[]`: an array's element). */
export const OPTION_PATHS = [
  ...[...TOP],
  ...Object.entries(KEYS).flatMap(([parent, keys]) => keys.map((key) => `${parent}.${key}`)),
];

const RADII = { pill: "pill", round: "round", soft: "soft", sharp: "sharp" };
const DENSITIES = new Set(["compact", "normal", "spacious"]);
const STRATEGIES = new Set(["two_phase", "direct"]);
// Shown in Simplified Chinese (chatkitd has no Traditional Chinese strings): reported.
const TRADITIONAL_CHINESE = /^zh[-_](hant|tw|hk|mo)\b/i;

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Keys of `value` not in KEYS[path], as full paths. `at` is the path as the page wrote it
 *  (with array indices: `composer.tools[1]`), when it differs from the table's. */
function unknownKeys(value, path, at = path) {
  if (!isObject(value) || !KEYS[path]) return [];
  return Object.keys(value).filter((key) => !KEYS[path].includes(key)).map((key) => `${at}.${key}`);
}

/** unknownKeys for each element of an array option. */
function unknownElementKeys(list, path) {
  if (!Array.isArray(list)) return [];
  return list.flatMap((value, index) => unknownKeys(value, `${path}[]`, `${path}[${index}]`));
}

function readApi(api, unsupported) {
  if (!isObject(api)) return null;
  if (typeof api.getClientSecret !== "function" && typeof api.url !== "string") {
    // Neither style: nothing to talk to (never the page's own origin by accident).
    unsupported.push("api (needs getClientSecret, or url)");
    return null;
  }
  unsupported.push(...unknownKeys(api, "api"), ...unknownKeys(api.uploadStrategy, "api.uploadStrategy"));
  const strategy = isObject(api.uploadStrategy) ? api.uploadStrategy : null;
  if (strategy && strategy.type !== undefined && !STRATEGIES.has(strategy.type)) unsupported.push(`api.uploadStrategy.type=${strategy.type}`);
  if (typeof api.getClientSecret === "function" && !api.url) {
    // Hosted style: the secret comes from the page; the server is the one that served the script.
    return { style: "hosted", getClientSecret: api.getClientSecret, uploadStrategy: api.uploadStrategy };
  }
  return {
    style: typeof api.getClientSecret === "function" ? "secret" : "custom",
    url: api.url,
    fetch: typeof api.fetch === "function" ? api.fetch : null,
    domainKey: typeof api.domainKey === "string" ? api.domainKey : null,
    getClientSecret: typeof api.getClientSecret === "function" ? api.getClientSecret : null,
    uploadStrategy: api.uploadStrategy,
  };
}

function readTheme(theme, unsupported) {
  if (typeof theme === "string") theme = { colorScheme: theme };
  if (!isObject(theme)) theme = {};
  unsupported.push(...unknownKeys(theme, "theme"), ...unknownKeys(theme.typography, "theme.typography"));
  unsupported.push(...unknownElementKeys(theme.typography?.fontSources, "theme.typography.fontSources"));
  unsupported.push(...unknownKeys(theme.color, "theme.color"));
  const color = isObject(theme.color) ? theme.color : {};
  for (const part of ["grayscale", "accent", "surface"]) unsupported.push(...unknownKeys(color[part], `theme.color.${part}`));
  // chatkitd's earlier `theme.accent: "#hex"` and ChatKit.js's `theme.color.accent: {primary, level}`.
  let accent = null;
  if (typeof theme.accent === "string") accent = { primary: theme.accent, level: 1 };
  else if (isObject(color.accent) && typeof color.accent.primary === "string") accent = { level: 1, ...color.accent };
  const typography = isObject(theme.typography) ? theme.typography : {};
  if (theme.radius && !RADII[theme.radius]) unsupported.push(`theme.radius=${theme.radius}`);
  if (theme.density && !DENSITIES.has(theme.density)) unsupported.push(`theme.density=${theme.density}`);
  return {
    colorScheme: theme.colorScheme === "dark" ? "dark" : "light",
    density: DENSITIES.has(theme.density) ? theme.density : "normal",
    radius: RADII[theme.radius] || "round",
    accent,
    grayscale: isObject(color.grayscale) ? color.grayscale : null,
    surface: isObject(color.surface) ? color.surface : null,
    typography: {
      baseSize: Number(typography.baseSize) || null,
      fontFamily: typeof typography.fontFamily === "string" ? typography.fontFamily : null,
      fontFamilyMono: typeof typography.fontFamilyMono === "string" ? typography.fontFamilyMono : null,
      fontSources: Array.isArray(typography.fontSources) ? typography.fontSources.filter(isObject) : [],
    },
  };
}

function readHeader(header, unsupported) {
  header = isObject(header) ? header : {};
  unsupported.push(...unknownKeys(header, "header"), ...unknownKeys(header.title, "header.title"));
  const title = isObject(header.title) ? header.title : {};
  const action = (value, path) => {
    if (!isObject(value)) return null;
    unsupported.push(...unknownKeys(value, path));
    if (value.icon !== undefined && !knownIcon(value.icon)) unsupported.push(`${path}.icon=${value.icon}`);
    return { icon: value.icon, onClick: typeof value.onClick === "function" ? value.onClick : () => {} };
  };
  return {
    enabled: header.enabled !== false,
    titleEnabled: title.enabled !== false,
    titleText: typeof title.text === "string" ? title.text : null,
    leftAction: action(header.leftAction, "header.leftAction"),
    rightAction: action(header.rightAction, "header.rightAction"),
  };
}

function readStartScreen(start, unsupported) {
  start = isObject(start) ? start : {};
  unsupported.push(...unknownKeys(start, "startScreen"), ...unknownElementKeys(start.prompts, "startScreen.prompts"));
  (Array.isArray(start.prompts) ? start.prompts : []).forEach((prompt, index) => {
    const content = isObject(prompt) ? prompt.prompt : null;
    unsupported.push(...unknownElementKeys(content, "startScreen.prompts[].prompt").map((p) => p.replace("[].", `[${index}].`)));
  });
  const prompts = (Array.isArray(start.prompts) ? start.prompts : []).filter(isObject).map((prompt, index) => {
    if (prompt.icon && !knownIcon(prompt.icon)) unsupported.push(`startScreen.prompts[${index}].icon=${prompt.icon}`);
    return { label: prompt.label || (typeof prompt.prompt === "string" ? prompt.prompt : ""), prompt: prompt.prompt ?? prompt.label, icon: prompt.icon || null };
  });
  return { greeting: typeof start.greeting === "string" ? start.greeting : null, prompts };
}

function readComposer(composer, unsupported) {
  composer = isObject(composer) ? composer : {};
  unsupported.push(...unknownKeys(composer, "composer"), ...unknownKeys(composer.attachments, "composer.attachments"));
  unsupported.push(...unknownElementKeys(composer.tools, "composer.tools"), ...unknownElementKeys(composer.models, "composer.models"));
  unsupported.push(...unknownKeys(composer.dictation, "composer.dictation"));
  const attachments = isObject(composer.attachments) ? composer.attachments : null;
  const tools = (Array.isArray(composer.tools) ? composer.tools : []).filter((t) => isObject(t) && t.id);
  tools.forEach((tool, index) => {
    if (tool.icon && !knownIcon(tool.icon)) unsupported.push(`composer.tools[${index}].icon=${tool.icon}`);
  });
  const models = (Array.isArray(composer.models) ? composer.models : []).filter((m) => isObject(m) && m.id);
  return {
    placeholder: typeof composer.placeholder === "string" ? composer.placeholder : null,
    attachments: attachments && {
      enabled: attachments.enabled === true,
      maxSize: attachments.maxSize ?? null,
      maxCount: Number(attachments.maxCount) || null,
      accept: isObject(attachments.accept) ? attachments.accept : null,
    },
    tools,
    models,
    dictation: isObject(composer.dictation) && composer.dictation.enabled === true,
  };
}

function readSection(value, path, unsupported) {
  value = isObject(value) ? value : {};
  unsupported.push(...unknownKeys(value, path));
  return value;
}

/**
 * Read a ChatKit.js options object. Returns `{options, unsupported}`: the chat's own
 * shape, and the option paths chatkitd ignores (for example `commands`).
 */
export function readOptions(raw) {
  raw = isObject(raw) ? raw : {};
  const unsupported = Object.keys(raw).filter((key) => !TOP.has(key));
  if (typeof raw.locale === "string" && (!matchLocale(raw.locale) || TRADITIONAL_CHINESE.test(raw.locale))) {
    unsupported.push(`locale=${raw.locale}`);
  }
  const history = readSection(raw.history, "history", unsupported);
  const actions = readSection(raw.threadItemActions, "threadItemActions", unsupported);
  const disclaimer = readSection(raw.disclaimer, "disclaimer", unsupported);
  const entities = readSection(raw.entities, "entities", unsupported);
  const commands = readSection(raw.commands, "commands", unsupported);
  const widgets = readSection(raw.widgets, "widgets", unsupported);
  const thread = readSection(raw.thread, "thread", unsupported);
  const options = {
    raw,
    api: readApi(raw.api, unsupported),
    locale: typeof raw.locale === "string" ? raw.locale : undefined,
    theme: readTheme(raw.theme, unsupported),
    frameTitle: typeof raw.frameTitle === "string" ? raw.frameTitle : null, // null: "Chat" in the chat's language
    initialThread: typeof raw.initialThread === "string" ? raw.initialThread : null,
    onClientTool: raw.onClientTool || null,
    header: readHeader(raw.header, unsupported),
    history: { enabled: history.enabled !== false, showDelete: history.showDelete !== false, showRename: history.showRename !== false },
    startScreen: readStartScreen(raw.startScreen, unsupported),
    threadItemActions: { feedback: actions.feedback === true, retry: actions.retry === true },
    composer: readComposer(raw.composer, unsupported),
    disclaimer: typeof disclaimer.text === "string" && disclaimer.text ? { text: disclaimer.text, highContrast: !!disclaimer.highContrast } : null,
    entities: {
      onTagSearch: typeof entities.onTagSearch === "function" ? entities.onTagSearch : null,
      showComposerMenu: !!entities.showComposerMenu,
      onClick: typeof entities.onClick === "function" ? entities.onClick : null,
      onRequestPreview: typeof entities.onRequestPreview === "function" ? entities.onRequestPreview : null,
    },
    commands: commands.enabled === true
      ? {
        onSearch: typeof commands.onSearch === "function" ? commands.onSearch : null,
        onSelect: typeof commands.onSelect === "function" ? commands.onSelect : null,
      }
      : null,
    widgets: {
      onAction: typeof widgets.onAction === "function" ? widgets.onAction : null,
      allowedImageDomains: Array.isArray(widgets.allowedImageDomains) ? widgets.allowedImageDomains : [],
    },
    autoScroll: thread.autoScroll === true,
  };
  return { options, unsupported };
}

// The chatkit.* DOM events, and the option callback each one also calls.
export const EVENT_CALLBACKS = {
  ready: "onReady",
  error: "onError",
  log: "onLog",
  effect: "onEffect",
  deeplink: "onDeeplink",
  "response.start": "onResponseStart",
  "response.end": "onResponseEnd",
  "thread.change": "onThreadChange",
  "thread.load.start": "onThreadLoadStart",
  "thread.load.end": "onThreadLoadEnd",
  "tool.change": "onToolChange",
  "history.open": "onHistoryOpen",
  "history.close": "onHistoryClose",
};
