// The playground at `/`: picks a workflow and state variables, mints a session from
// the development-only route, and chats through <chatkitd-chat>.
//
// `window.playground` exposes the element and the sessions minted so far; the
// browser tests read it, and it is handy in the devtools console too.

import "../chat/element.js";

const chat = document.getElementById("chat");
const form = document.getElementById("session-form");
const errorEl = document.getElementById("session-error");
const eventsEl = document.getElementById("events");

const playground = { chat, sessions: [], secretRequests: [], events: [] };
window.playground = playground;

// The demo workflow asks the page for these through client tool calls.
const clientTools = {
  // The demo's `tool` keyword calls this one.
  get_client_info: async ({ fields = [] } = {}) => {
    const info = { locale: navigator.language, time: new Date().toISOString(), page: location.pathname };
    return Object.fromEntries(Object.entries(info).filter(([key]) => !fields.length || fields.includes(key)));
  },
  get_time: async () => ({ time: new Date().toISOString(), zone: Intl.DateTimeFormat().resolvedOptions().timeZone }),
  get_location: async () => ({ city: "Playground", country: "Localhost" }),
  get_page_info: async () => ({ title: document.title, url: location.href }),
  set_theme: async ({ scheme } = {}) => {
    form.elements.scheme.value = scheme === "dark" ? "dark" : "light";
    start({ keepSession: true });
    return { scheme: form.elements.scheme.value };
  },
};

function logEvent(name, detail) {
  const entry = { name, at: new Date().toISOString(), detail };
  playground.events.push(entry);
  const li = document.createElement("li");
  li.textContent = `${entry.at.slice(11, 19)} ${name}${detail && detail.threadId ? ` ${detail.threadId}` : ""}`;
  eventsEl.prepend(li);
}

function sessionRequest() {
  const f = form.elements;
  let state = {};
  const rawState = f.state.value.trim();
  if (rawState) state = JSON.parse(rawState); // a SyntaxError is shown by the caller
  const workflow = { id: f.workflow.value.trim() || "demo", state_variables: state };
  if (f.version.value.trim()) workflow.version = f.version.value.trim();
  const body = {
    user: f.user.value.trim(),
    workflow,
    file_upload: { enabled: true, max_file_size: Number(f.max_file_size.value) || 10, max_files: Number(f.max_files.value) || 20 },
  };
  if (f.max_requests_per_1_minute.value) body.max_requests_per_1_minute = Number(f.max_requests_per_1_minute.value);
  if (f.recent_threads.value) body.history = { enabled: true, recent_threads: Number(f.recent_threads.value) };
  // A short lifetime shows the chat fetching a new secret when the old one expires.
  if (f.expires_seconds.value) body.expires_after = { anchor: "created_at", seconds: Number(f.expires_seconds.value) };
  return body;
}

/** An error from one of the playground's routes, in words saying what happened. */
async function routeError(response, what) {
  const body = await response.json().catch(() => ({}));
  const error = body.error || {};
  if (response.status === 404 && error.code === "unknown_route") {
    return new Error("The playground is off: chatkitd runs in production mode.");
  }
  const detail = error.message || `HTTP ${response.status}`;
  const where = error.param ? ` (${error.param})` : "";
  return new Error(`${what}: ${detail}${where}`);
}

async function mintSession(current) {
  playground.secretRequests.push(current);
  const response = await fetch("/playground/session", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(sessionRequest()),
  });
  if (!response.ok) {
    const error = await routeError(response, "Could not start a session");
    errorEl.textContent = error.message;
    throw error;
  }
  const body = await response.json();
  playground.sessions.push(body);
  return body; // the whole session: the chat reads its upload and history limits
}

/** The chosen workflow's models and tools, for the composer's pickers. */
async function workflowChoices() {
  const f = form.elements;
  const id = f.workflow.value.trim() || "demo";
  const query = f.version.value.trim() ? `?version=${encodeURIComponent(f.version.value.trim())}` : "";
  const response = await fetch(`/playground/workflows/${encodeURIComponent(id)}${query}`);
  if (!response.ok) throw await routeError(response, `Workflow '${id}'`);
  return response.json();
}

// The demo's keywords, as prompts; other workflows get none.
const DEMO_PROMPTS = [
  { label: "Say hello", prompt: "hello", icon: "sparkle" },
  { label: "Show a widget", prompt: "widget", icon: "square-image" },
  { label: "Call a client tool", prompt: "tool", icon: "bolt" },
  { label: "Run tasks", prompt: "tasks", icon: "check-circle" },
  { label: "A slow answer", prompt: "slow", icon: "clock" },
];

async function start({ keepSession = false } = {}) {
  errorEl.textContent = "";
  try {
    sessionRequest();
  } catch (error) {
    errorEl.textContent = `State variables: ${error.message}`;
    return;
  }
  let choices;
  try {
    choices = await workflowChoices();
  } catch (error) {
    errorEl.textContent = error.message;
    // No chat to show until a session starts: not a chat that looks ready and is not.
    if (!chat.options || !chat.options.api) chat.hidden = true;
    return;
  }
  chat.hidden = false;
  playground.workflow = choices;
  const options = {
    api: keepSession && chat.options.api ? chat.options.api : { url: "/v1/chatkit/conversation", getClientSecret: mintSession },
    theme: { colorScheme: form.elements.scheme.value, density: "normal" },
    // The greeting and the placeholder are the chat's own, in the user's language.
    startScreen: { prompts: choices.id === "demo" ? DEMO_PROMPTS : [] },
    composer: {
      attachments: { enabled: true },
      // The mic shows when the server can transcribe for this workflow (CHATKITD_TRANSCRIPTION_*).
      dictation: { enabled: choices.dictation },
      models: choices.models,
      tools: choices.tools,
    },
    history: { enabled: true },
    threadItemActions: { feedback: true, retry: true },
    onClientTool: clientTools,
    onResponseStart: () => logEvent("response.start"),
    onResponseEnd: () => logEvent("response.end"),
    onThreadChange: (detail) => logEvent("thread.change", detail),
    onError: ({ error }) => logEvent("error", { message: error && error.message }),
  };
  document.documentElement.dataset.theme = form.elements.scheme.value; // the page follows the chat's theme
  chat.setOptions(options);
}

// Query parameters prefill the form (`/?user=alice&workflow=demo&max_file_size=1`),
// so a playground set-up can be shared as a link.
for (const [name, value] of new URLSearchParams(location.search)) {
  const field = form.elements[name];
  if (field && "value" in field) field.value = value;
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  start();
});

start();
