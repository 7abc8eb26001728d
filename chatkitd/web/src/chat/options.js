// ChatKit.js's options (the `ChatKitOptions` type of @openai/chatkit), read into the one
// shape the chat works from, plus a list of what chatkitd cannot honour.
//
// A page written for OpenAI's <openai-chatkit> passes its options unchanged; an
// option chatkitd does not implement is named in `unsupported` (the element reports
// each once, through chatkit.log and console.warn) and otherwise ignored: never a crash.
// chatkitd's own earlier spellings (`theme.accent`, `onResponseEnd`, ...) still work.

import { knownIcon } from "./chatkit-icons.js";

// Every option path chatkitd reads. An object at a path not listed here, or a key
// under one of these objects that is not listed, is reported as unsupported.
const TOP = new Set([
  "api", "locale", "theme", "frameTitle", "initialThread", "onClientTool", "header", "history",
  "startScreen", "threadItemActions", "composer", "disclaimer", "entities", "widgets", "thread",
  // chatkitd's own callbacks (ChatKit.js has DOM events for these; both work)
  "onReady", "onError", "onLog", "onEffect", "onDeeplink", "onResponseStart", "onResponseEnd",
  "onThreadChange", "onThreadLoadStart", "onThreadLoadEnd", "onToolChange", "onHistoryOpen", "onHistoryClose",
]);
const KEYS = {
  api: ["url", "fetch", "domainKey", "uploadStrategy", "getClientSecret"],
  theme: ["colorScheme", "typography", "radius", "density", "color", "accent"],
  "theme.typography": ["baseSize", "fontSources", "fontFamily", "fontFamilyMono"],
  "theme.color": ["grayscale", "accent", "surface"],
  header: ["enabled", "title", "leftAction", "rightAction"],
  "header.title": ["enabled", "text"],
  history: ["enabled", "showDelete", "showRename"],
  startScreen: ["greeting", "prompts"],
  threadItemActions: ["feedback", "retry"],
  composer: ["placeholder", "attachments", "tools", "models", "dictation"],
  "composer.attachments": ["enabled", "maxSize", "maxCount", "accept"],
  disclaimer: ["text", "highContrast"],
  entities: ["onTagSearch", "showComposerMenu", "onClick", "onRequestPreview"],
  widgets: ["onAction", "allowedImageDomains"],
  thread: ["autoScroll"],
};

const RADII = { pill: "pill", round: "round", soft: "soft", sharp: "sharp" };
const DENSITIES = new Set(["compact", "normal", "spacious"]);

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Keys of `value` not in KEYS[path], as full paths. */
function unknownKeys(value, path) {
  if (!isObject(value) || !KEYS[path]) return [];
  return Object.keys(value).filter((key) => !KEYS[path].includes(key)).map((key) => `${path}.${key}`);
}

function readApi(api, unsupported) {
  if (!isObject(api)) return null;
  unsupported.push(...unknownKeys(api, "api"));
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
  unsupported.push(...unknownKeys(theme.color, "theme.color"));
  const color = isObject(theme.color) ? theme.color : {};
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
    if (!knownIcon(value.icon)) unsupported.push(`${path}.icon=${value.icon}`);
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
  unsupported.push(...unknownKeys(start, "startScreen"));
  const prompts = (Array.isArray(start.prompts) ? start.prompts : []).filter(isObject).map((prompt, index) => {
    if (prompt.icon && !knownIcon(prompt.icon)) unsupported.push(`startScreen.prompts[${index}].icon=${prompt.icon}`);
    return { label: prompt.label || (typeof prompt.prompt === "string" ? prompt.prompt : ""), prompt: prompt.prompt ?? prompt.label, icon: prompt.icon || null };
  });
  return { greeting: typeof start.greeting === "string" ? start.greeting : null, prompts };
}

function readComposer(composer, unsupported) {
  composer = isObject(composer) ? composer : {};
  unsupported.push(...unknownKeys(composer, "composer"), ...unknownKeys(composer.attachments, "composer.attachments"));
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
  const history = readSection(raw.history, "history", unsupported);
  const actions = readSection(raw.threadItemActions, "threadItemActions", unsupported);
  const disclaimer = readSection(raw.disclaimer, "disclaimer", unsupported);
  const entities = readSection(raw.entities, "entities", unsupported);
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
