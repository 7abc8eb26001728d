// <chatkitd-chat>: chatkitd's embeddable chat, a dependency-free custom element.
//
//   import "/static/chatkitd.js";
//   const chat = document.querySelector("chatkitd-chat");
//   chat.setOptions({ api: { url, getClientSecret }, theme, startScreen, composer, history, onClientTool, ... });
//
// Options are modelled on OpenAI's ChatKit.js so integrators can switch with
// little change. Everything it needs is served by chatkitd itself: no CDN, no
// fonts or icons from elsewhere, so it works with no internet at all.

import { Conversation } from "./api.js";
import { renderItem } from "./items.js";
import { imagePolicy } from "./widgets.js";
import { applyUpdate } from "./updates.js";
import { buildComposer, autosize, applyComposerOptions } from "./composer.js";
import { h } from "./dom.js";
import { History } from "./history.js";
import { icon } from "./icons.js";
import { notice, showError, streamError } from "./notices.js";
import { adopt, chatSheet } from "./styles.js";


class ChatkitdChat extends HTMLElement {
  constructor() {
    super();
    this.attachShadow({ mode: "open" });
    this.options = {};
    this.conversation = null;
    this.thread = null; // the open thread's metadata, or null for a new chat
    this.items = []; // the open thread's items, in order
    this.nodes = new Map(); // item id -> rendered node
    this.streaming = null; // {controller, allowCancel} while a response streams
    this._build();
  }

  // -- public API ------------------------------------------------------------------

  /** Configure (or reconfigure) the chat. A new api object starts a new conversation client. */
  setOptions(options) {
    options = options || {};
    const apiChanged = !this.options.api || options.api !== this.options.api;
    this.options = options;
    this._applyTheme();
    this._applyComposerOptions();
    this._renderStartScreen();
    if (apiChanged && this.options.api) {
      this.conversation = new Conversation({
        ...this.options.api,
        onSession: (session) => this._onSession(session),
      });
      this.uploads.reset();
      this._openNewThread();
      // Fetch a secret now: its session tells us the upload and history limits.
      this.conversation
        .refresh(null)
        .then(() => {
          if (this.options.initialThread) this.setThreadId(this.options.initialThread);
          return this.history.load();
        })
        .catch((error) => this._showError(error));
    }
  }

  /** Open a thread by id, or null for a new one. */
  async setThreadId(threadId) {
    if (!threadId) return this._openNewThread();
    try {
      const thread = await this.conversation.request("threads.get_by_id", { thread_id: threadId });
      let items = thread.items ? thread.items.data : [];
      let page = thread.items || { has_more: false };
      // get_by_id answers the first page only; long threads are fetched to the end.
      while (page.has_more) {
        page = await this.conversation.request("items.list", { thread_id: threadId, after: page.after, order: "asc", limit: 100 });
        items = items.concat(page.data);
      }
      delete thread.items;
      this._setThread(thread, items);
      this._emit("thread.change", { threadId });
    } catch (error) {
      this._showError(error);
    }
  }

  /** Send a message as if the user typed it. */
  sendUserMessage({ text, newThread = false } = {}) {
    if (newThread) this._openNewThread();
    this.textarea.value = text || "";
    return this._submit();
  }

  focusComposer() {
    this.textarea.focus();
  }

  // -- building the shell ---------------------------------------------------------

  _build() {
    const root = this.shadowRoot;
    adopt(root, chatSheet());
    this.root = h("div", { class: "ck-root", part: "root" });
    this.historyEl = h("aside", { class: "ck-history", "aria-label": "Conversation history" });
    this.titleEl = h("h2", { class: "ck-title", id: "ck-title", text: "New chat" });
    this.historyToggle = h("button", {
      type: "button",
      class: "ck-icon-button",
      "aria-label": "Toggle history",
      "aria-expanded": "true",
      onclick: () => this._toggleHistory(),
    }, icon("menu"));
    const newChat = h("button", { type: "button", class: "ck-button", "aria-label": "New chat", onclick: () => this._openNewThread(true), text: "New chat" });
    const header = h("header", { class: "ck-header" }, this.historyToggle, this.titleEl, newChat);
    this.banner = h("div", { class: "ck-banners", role: "status", "aria-live": "polite" });
    this.log = h("div", { class: "ck-log", role: "log", "aria-labelledby": "ck-title", tabindex: "0" });
    this.progressEl = h("div", { class: "ck-progress", hidden: true, "aria-live": "polite" });
    this.startEl = h("div", { class: "ck-start" });
    const scroller = h("div", { class: "ck-scroller" }, this.startEl, this.log, this.progressEl);
    this.scroller = scroller;
    this.composer = this._buildComposer();
    const main = h("section", { class: "ck-main", "aria-labelledby": "ck-title" }, header, this.banner, scroller, this.composer);
    this.root.append(this.historyEl, main);
    root.append(this.root);
    this.history = new History(this, this.historyEl);
  }

  _buildComposer() {
    return buildComposer(this);
  }

  _autosize() {
    autosize(this);
  }

  _applyTheme() {
    const theme = this.options.theme || {};
    this.root.dataset.scheme = theme.colorScheme === "dark" ? "dark" : "light";
    this.root.dataset.density = theme.density || "normal";
    const accent = typeof theme.accent === "string" ? theme.accent : theme.color && theme.color.accent && theme.color.accent.primary;
    if (accent && CSS.supports("color", accent)) this.root.style.setProperty("--ck-accent", accent);
    else this.root.style.removeProperty("--ck-accent");
    if (theme.radius) this.root.dataset.radius = theme.radius;
  }

  _applyComposerOptions() {
    applyComposerOptions(this);
  }

  _renderStartScreen() {
    const start = this.options.startScreen || {};
    this.startEl.replaceChildren();
    this.startEl.append(h("p", { class: "ck-greeting", text: start.greeting || "How can I help today?" }));
    const prompts = h("div", { class: "ck-prompts", role: "group", "aria-label": "Suggested prompts" });
    for (const prompt of start.prompts || []) {
      prompts.append(
        h("button", {
          type: "button",
          class: "ck-prompt",
          text: prompt.label || prompt.prompt,
          onclick: () => this.sendUserMessage({ text: prompt.prompt || prompt.label }),
        }),
      );
    }
    this.startEl.append(prompts);
    this._updateStartVisibility();
  }

  _updateStartVisibility() {
    this.startEl.hidden = !!this.thread || this.items.length > 0;
  }

  _toggleHistory() {
    const open = this.root.classList.toggle("ck-history-closed") === false;
    this.historyToggle.setAttribute("aria-expanded", String(open));
  }

  // -- session --------------------------------------------------------------------

  _onSession(session) {
    // A new secret is a new session: upload counts and limits start again.
    this.uploads.reset();
    this.uploads.refreshLimits();
    const history = session.chatkit_configuration && session.chatkit_configuration.history;
    this.history.setSessionLimits(history);
  }

  get sessionConfig() {
    const session = this.conversation && this.conversation.session;
    return (session && session.chatkit_configuration) || null;
  }

  // -- thread state ---------------------------------------------------------------

  _openNewThread(focus = false) {
    if (this.streaming) this.stop();
    const changed = this.thread !== null;
    this._setThread(null, []);
    if (changed) this._emit("thread.change", { threadId: null });
    if (focus) this.textarea.focus();
  }

  _setThread(thread, items) {
    this.thread = thread;
    this.items = [];
    this.nodes.clear();
    this.log.replaceChildren();
    this.banner.replaceChildren();
    this._setProgress(null);
    for (const item of items) this._upsert(item, false);
    this._updateHeader();
    this._updateStartVisibility();
    this._refreshTurnActions();
    this.history.markActive(thread && thread.id);
    this._scrollToEnd();
  }

  _updateHeader() {
    this.titleEl.textContent = (this.thread && this.thread.title) || "New chat";
    const status = this.thread && this.thread.status;
    const closed = status && status.type && status.type !== "active";
    this.root.classList.toggle("ck-thread-closed", !!closed);
    this.textarea.disabled = !!closed;
    this.sendButton.disabled = !!closed;
    this.attachButton.disabled = !!closed || !this.uploads.enabled;
    this.banner.querySelector(".ck-status-banner")?.remove();
    if (closed) {
      const label = status.type === "locked" ? "This conversation is locked" : "This conversation is closed";
      const text = status.reason ? `${label}: ${status.reason}` : `${label}.`;
      this.banner.prepend(h("div", { class: "ck-banner ck-status-banner", "data-level": "warning", text }));
    }
    this._refreshTurnActions();
  }

  _ctx() {
    const scheme = this.root.dataset.scheme;
    const allowed = [...((this.options.widgets && this.options.widgets.allowedImageDomains) || []), ...((this.thread && this.thread.allowed_image_domains) || [])];
    const apiUrl = (this.options.api && this.options.api.url) || location.href;
    const sameServer = imagePolicy(allowed, new URL(apiUrl, location.href).href);
    const samePage = imagePolicy(allowed);
    return {
      scheme,
      allowImage: (src) => sameServer(src) || samePage(src),
      onAction: (action, el, item) => this._onWidgetAction(action, el, item),
      onStructuredInput: (item, input) => this._answerStructuredInput(item, input),
      readOnly: false,
    };
  }

  /** Insert or replace an item's node, keeping the open state of its disclosures. */
  _upsert(item, streaming) {
    const index = this.items.findIndex((i) => i.id === item.id);
    if (index === -1) this.items.push(item);
    else this.items[index] = item;
    const node = renderItem(item, this._ctx());
    const old = this.nodes.get(item.id);
    if (!node) {
      if (old) old.remove();
      this.nodes.delete(item.id);
      return;
    }
    if (old) {
      const before = old.querySelectorAll("details");
      const after = node.querySelectorAll("details");
      if (before.length === after.length) before.forEach((d, i) => (after[i].open = d.open));
    }
    node.classList.toggle("ck-streaming", !!streaming);
    if (old) old.replaceWith(node);
    else this.log.append(node);
    this.nodes.set(item.id, node);
    if (item.type === "assistant_message") {
      node.append(this._turnActions(item));
      this._refreshTurnActions();
    }
  }

  _remove(itemId) {
    this.items = this.items.filter((i) => i.id !== itemId);
    this.nodes.get(itemId)?.remove();
    this.nodes.delete(itemId);
  }

  /** Feedback and retry under an assistant message. */
  _turnActions(item) {
    const bar = h("div", { class: "ck-turn-actions", role: "group", "aria-label": "Response actions" });
    const thumb = (kind, label, name) =>
      h("button", {
        type: "button",
        class: "ck-icon-button ck-feedback",
        "data-kind": kind,
        "aria-label": label,
        "aria-pressed": "false",
        onclick: (event) => this._feedback(item, kind, event.currentTarget),
      }, icon(name));
    bar.append(
      h("button", { type: "button", class: "ck-icon-button ck-copy", "aria-label": "Copy response", onclick: () => this._copy(item) }, icon("copy")),
      thumb("positive", "Good response", "up"),
      thumb("negative", "Bad response", "down"),
      h("button", { type: "button", class: "ck-icon-button ck-retry", "aria-label": "Retry", onclick: () => this.retry(item.id) }, icon("retry")),
    );
    return bar;
  }

  /** Only the last response can be retried; retrying an older one would drop later turns.
   *  A locked or closed thread takes no new input, so it offers no retry at all. */
  _refreshTurnActions() {
    const assistants = this.items.filter((i) => i.type === "assistant_message");
    const last = assistants[assistants.length - 1];
    const status = this.thread && this.thread.status;
    const open = !status || !status.type || status.type === "active";
    for (const item of assistants) {
      const node = this.nodes.get(item.id);
      const retry = node && node.querySelector(".ck-retry");
      if (retry) retry.hidden = !open || item !== last || !!this.streaming;
    }
  }

  _copy(item) {
    const text = (item.content || []).map((c) => c.text).join("\n\n");
    navigator.clipboard?.writeText(text).catch(() => {});
  }

  async _feedback(item, kind, button) {
    try {
      await this.conversation.request("items.feedback", { thread_id: this.thread.id, item_ids: [item.id], kind });
      for (const other of button.parentElement.querySelectorAll(".ck-feedback")) other.setAttribute("aria-pressed", String(other === button));
    } catch (error) {
      this._showError(error);
    }
  }

  _scrollToEnd() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  // -- sending and streaming ------------------------------------------------------------

  _inferenceOptions() {
    const options = {};
    if (!this.modelSelect.hidden && this.modelSelect.value) options.model = this.modelSelect.value;
    if (!this.toolSelect.hidden && this.toolSelect.value) options.tool_choice = { id: this.toolSelect.value };
    return options;
  }

  async _submit() {
    const text = this.textarea.value.trim();
    if (this.streaming || this.uploads.busy) return;
    const attachments = this.uploads.readyIds();
    if (!text && !attachments.length) return;
    const input = { content: [{ type: "input_text", text }], attachments, quoted_text: null, inference_options: this._inferenceOptions() };
    this.textarea.value = "";
    this._autosize();
    const sentUploads = this.uploads.takeReady();
    const ok = this.thread
      ? await this._run("threads.add_user_message", { thread_id: this.thread.id, input })
      : await this._run("threads.create", { input });
    // A refused message gives its text and files back, so nothing typed is lost.
    if (!ok.delivered) {
      this.textarea.value = this.textarea.value || text;
      this.uploads.restore(sentUploads);
    }
  }

  /** Stop the response: aborting the fetch closes the stream, which the server treats as cancel. */
  stop() {
    if (this.streaming) this.streaming.controller.abort();
  }

  /** Regenerate the response after the user message that precedes `itemId`. */
  async retry(itemId) {
    if (!this.thread || this.streaming) return;
    const index = itemId ? this.items.findIndex((i) => i.id === itemId) : this.items.length;
    let userIndex = -1;
    for (let i = Math.min(index, this.items.length - 1); i >= 0; i--) {
      if (this.items[i].type === "user_message") {
        userIndex = i;
        break;
      }
    }
    if (userIndex === -1) return;
    const userItem = this.items[userIndex];
    const replaced = this.items.slice(userIndex + 1);
    for (const item of replaced) this._remove(item.id);
    const { delivered } = await this._run("threads.retry_after_item", { thread_id: this.thread.id, item_id: userItem.id });
    // Refused (a locked thread, a rate limit, no network): the server kept the answer, so does the page.
    if (!delivered) {
      for (const item of replaced) this._upsert(item, false);
      this._refreshTurnActions();
    }
  }

  /** Run one streaming operation; resolves to {delivered} once the stream ends. */
  async _run(type, params) {
    if (this.streaming) return { delivered: false };
    const controller = new AbortController();
    this.streaming = { controller, allowCancel: true, toolCall: null, sawEvent: false };
    const run = this.streaming;
    this.root.classList.add("ck-busy");
    this.log.setAttribute("aria-busy", "true");
    this.sendButton.hidden = true;
    this.stopButton.hidden = false;
    this.stopButton.disabled = false; // until stream_options says the run cannot be cancelled
    this.banner.querySelectorAll(".ck-transient").forEach((el) => el.remove());
    this._refreshTurnActions();
    this._emit("response.start", {});
    let stopped = false;
    try {
      await this.conversation.stream(type, params, (event) => this._onEvent(event, run), { signal: controller.signal });
    } catch (error) {
      if (error.name === "AbortError") stopped = true;
      else this._showError(error);
    } finally {
      this.streaming = null;
      for (const node of this.log.querySelectorAll(".ck-streaming")) {
        node.classList.remove("ck-streaming");
        if (stopped) node.classList.add("ck-stopped");
      }
      this._setProgress(null);
      this.root.classList.remove("ck-busy");
      this.log.setAttribute("aria-busy", "false");
      this.sendButton.hidden = false;
      this.stopButton.hidden = true;
      this._refreshTurnActions();
      this._emit("response.end", {});
    }
    if (run.toolCall && !stopped) await this._answerClientTool(run.toolCall);
    if (run.sawEvent) this.history.load();
    return { delivered: run.sawEvent };
  }

  _onEvent(event, run) {
    run.sawEvent = true;
    switch (event.type) {
      case "thread.created":
        this.thread = { ...event.thread };
        delete this.thread.items;
        this._updateHeader();
        this._updateStartVisibility();
        this.history.upsert(this.thread, true);
        this.history.markActive(this.thread.id);
        this._emit("thread.change", { threadId: this.thread.id });
        break;
      case "thread.updated":
        this.thread = { ...this.thread, ...event.thread };
        delete this.thread.items;
        this._updateHeader();
        this.history.upsert(this.thread, false);
        break;
      case "thread.item.added":
        this._setProgress(null);
        this._upsert(event.item, true);
        this._updateStartVisibility();
        break;
      case "thread.item.done":
      case "thread.item.replaced":
        this._setProgress(null);
        this._upsert(event.item, false);
        this._updateStartVisibility();
        if (event.item.type === "client_tool_call" && event.item.status === "pending") run.toolCall = event.item;
        break;
      case "thread.item.updated": {
        const item = this.items.find((i) => i.id === event.item_id);
        if (item) this._upsert(applyUpdate(item, event.update), true);
        break;
      }
      case "thread.item.removed":
        this._remove(event.item_id);
        break;
      case "stream_options":
        run.allowCancel = !!(event.stream_options && event.stream_options.allow_cancel);
        this.stopButton.disabled = !run.allowCancel;
        break;
      case "progress_update":
        this._setProgress(event.text);
        break;
      case "notice":
        this._notice(event.level, event.message, event.title);
        break;
      case "client_effect":
        this._emit("effect", { name: event.name, data: event.data });
        if (typeof this.options.onEffect === "function") this.options.onEffect({ name: event.name, data: event.data });
        break;
      case "error":
        this._streamError(event);
        break;
      default:
        break; // newer event types are ignored rather than breaking the chat
    }
    this._scrollToEnd();
  }

  _setProgress(text) {
    this.progressEl.hidden = !text;
    this.progressEl.textContent = text || "";
  }

  async _answerClientTool(item) {
    const handlers = this.options.onClientTool;
    let result;
    try {
      if (typeof handlers === "function") result = await handlers({ name: item.name, params: item.arguments });
      else if (handlers && typeof handlers[item.name] === "function") result = await handlers[item.name](item.arguments);
      else result = { error: `Unknown client tool: ${item.name}` };
    } catch (error) {
      result = { error: String((error && error.message) || error) };
    }
    if (result === undefined) result = null;
    this._upsert({ ...item, status: "completed", output: result }, false);
    await this._run("threads.add_client_tool_output", { thread_id: this.thread.id, result });
  }

  async _answerStructuredInput(item, input) {
    if (!this.thread || this.streaming) return;
    await this._run("threads.add_structured_input", { thread_id: this.thread.id, item_id: item.id, input });
  }

  async _onWidgetAction(action, el, item) {
    if (action.handler === "client") {
      const handler = this.options.widgets && this.options.widgets.onAction;
      if (typeof handler === "function") await handler(action, item);
      return;
    }
    if (!this.thread || this.streaming) return;
    const params = { thread_id: this.thread.id, item_id: item ? item.id : null, action: { type: action.type, payload: action.payload ?? null } };
    const busyTarget = action.loadingBehavior === "none" ? null : el;
    if (busyTarget) busyTarget.setAttribute("aria-busy", "true");
    try {
      if (action.streaming === false) {
        const answer = await this.conversation.request("threads.sync_custom_action", params);
        if (answer && answer.updated_item) this._upsert(answer.updated_item, false);
      } else {
        await this._run("threads.custom_action", params);
      }
    } catch (error) {
      this._showError(error);
    } finally {
      if (busyTarget) busyTarget.removeAttribute("aria-busy");
    }
  }

  // -- messages to the user (notices.js) ---------------------------------------------------

  _notice(level, message, title) {
    notice(this, level, message, title);
  }

  _streamError(event) {
    streamError(this, event);
  }

  _showError(error) {
    showError(this, error);
  }

  _emit(name, detail) {
    const handlerName = { "response.start": "onResponseStart", "response.end": "onResponseEnd", "thread.change": "onThreadChange", error: "onError" }[name];
    const handler = handlerName && (this.options[handlerName] || (this.options.events && this.options.events[handlerName]));
    if (typeof handler === "function") {
      try {
        handler(detail);
      } catch (error) {
        console.error(error); // a page's callback must never break the chat
      }
    }
    this.dispatchEvent(new CustomEvent(`chatkit.${name}`, { detail, bubbles: true, composed: true }));
  }
}

if (!customElements.get("chatkitd-chat")) customElements.define("chatkitd-chat", ChatkitdChat);

export { ChatkitdChat };
