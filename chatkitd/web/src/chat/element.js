// The chat element, registered twice from one implementation:
//
//   <openai-chatkit>  the drop-in for OpenAI's ChatKit.js (same options, methods and events)
//   <chatkitd-chat>   the same element under chatkitd's own name
//
//   const chat = document.querySelector("openai-chatkit");
//   chat.setOptions({ api: { getClientSecret }, theme, startScreen, composer, history, onClientTool, ... });
//   chat.addEventListener("chatkit.response.end", () => ...);
//
// Options are read by options.js from ChatKit.js's `ChatKitOptions` shape; what
// chatkitd cannot honour is reported once (chatkit.log and console.warn), never thrown.
// Everything it needs is served by chatkitd itself: no CDN, no fonts or icons from
// elsewhere, so it works with no internet at all.

import { Conversation } from "./api.js";
import { renderItem } from "./items.js";
import { imagePolicy } from "./widgets.js";
import { applyUpdate } from "./updates.js";
import { buildComposer, autosize, applyComposerOptions, applyComposerStrings } from "./composer.js";
import { h } from "./dom.js";
import { Commands } from "./commands.js";
import { Entities, tagContent } from "./entities.js";
import { Header } from "./header.js";
import { History } from "./history.js";
import { Layout } from "./layout.js";
import { icon } from "./icons.js";
import { chatkitIcon } from "./chatkit-icons.js";
import { markdownToHtml } from "./markdown.js";
import { notice, showError, streamError } from "./notices.js";
import { EVENT_CALLBACKS, readOptions } from "./options.js";
import { SERVED_CONVERSATION_URL } from "./origin.js";
import { adopt, chatSheet, dropinSheet } from "./styles.js";
import { applyTheme } from "./theme.js";
import { resolveLocale, translator } from "./i18n.js";

const DEEPLINK = "chatkit-link:";

/** `chatkit-link://name?key=value` -> {name, data}. */
function deeplinkOf(href) {
  const url = new URL(href);
  const name = decodeURIComponent(`${url.host}${url.pathname}`.replace(/^\/+|\/+$/g, ""));
  const data = Object.fromEntries(url.searchParams);
  return Object.keys(data).length ? { name, data } : { name };
}

/** Identity of an api option: a new identity means a new conversation (new secret, new thread). */
function apiIdentity(api) {
  if (!api) return null;
  return JSON.stringify([api.style, api.url || null, api.domainKey || null, api.uploadStrategy || null]);
}

class ChatkitdChat extends HTMLElement {
  constructor() {
    super();
    this.attachShadow({ mode: "open" });
    this.rawOptions = {};
    const { options } = readOptions({});
    this.config = options;
    this.conversation = null;
    this.thread = null; // the open thread's metadata, or null for a new chat
    this.items = []; // the open thread's items, in order
    this.nodes = new Map(); // item id -> rendered node
    this.streaming = null; // {controller, allowCancel} while a response streams
    this.reported = new Set(); // unsupported options already reported
    this.readyState = "new"; // new -> scheduled -> ready
    this.replyTo = null; // quoted text of a reply (setComposerValue/sendUserMessage `reply`)
    this.t = translator(resolveLocale()); // the browser's language until the `locale` option says otherwise
    this._build();
    this._applyStrings();
    // `element.options = {...}` set before this script defined the element (React or a page
    // may run first) is an own property of the element, hiding the class's setter: apply it.
    if (Object.prototype.hasOwnProperty.call(this, "options")) {
      const early = this.options;
      delete this.options;
      this.setOptions(early);
    }
  }

  /** The options as the page gave them (ChatKit.js: `setOptions` replaces, never merges). */
  get options() {
    return this.rawOptions;
  }

  /** `chatkit.options = {...}`, as ChatKit.js's own documentation writes it: setOptions. */
  set options(raw) {
    this.setOptions(raw);
  }

  // -- public API (ChatKit.js's OpenAIChatKit interface) ------------------------------------

  /** Configure (or reconfigure) the chat with a full set of ChatKit.js options. */
  setOptions(raw) {
    const previous = this.config.api;
    const { options, unsupported } = readOptions(raw);
    this.rawOptions = raw || {};
    this.config = options;
    this._applyOptions();
    for (const path of unsupported) this._reportUnsupported(path);
    const api = options.api;
    if (api && apiIdentity(api) === apiIdentity(previous) && this.conversation) {
      // Same server and style: keep the conversation, with the page's latest functions.
      this.conversation.getClientSecret = api.getClientSecret || null;
      this.conversation.fetch = api.fetch || null;
    } else if (api) {
      this._connect(api);
    }
    this._scheduleReady();
  }

  /** Open a thread by id, or null for a new one. */
  async setThreadId(threadId) {
    if (!threadId) return this._openNewThread();
    this._requireConversation();
    this._emit("thread.load.start", { threadId });
    try {
      const thread = await this.conversation.request("threads.get_by_id", { thread_id: threadId });
      const items = await this._allItems(threadId, thread.items);
      delete thread.items;
      const changed = !this.thread || this.thread.id !== threadId;
      this._setThread(thread, items);
      if (changed) this._emit("thread.change", { threadId });
    } catch (error) {
      this._showError(error);
    } finally {
      this._emit("thread.load.end", { threadId });
    }
  }

  /** Send a message without touching the composer (ChatKit.js's sendUserMessage). */
  async sendUserMessage({ text, content, reply, attachments, newThread = false, toolChoice, model } = {}) {
    this._requireConversation();
    await this._idle();
    if (newThread) this._openNewThread();
    const inference = {};
    if (model) inference.model = model;
    if (toolChoice && toolChoice.id) inference.tool_choice = { id: toolChoice.id };
    const given = Array.isArray(content) && content.length ? content : [{ type: "input_text", text: text || "" }];
    const parts = given.map((part) => (part.type === "input_tag" ? tagContent({ ...part, title: part.text }) : part));
    const input = {
      content: parts,
      attachments: (attachments || []).map((a) => (typeof a === "string" ? a : a.id)),
      quoted_text: reply || null,
      inference_options: inference,
    };
    const ok = await this._sendInput(input);
    // Refused (a locked thread, a rate limit): the text goes to the composer, so it is not lost.
    if (!ok.delivered && !this.textarea.value) {
      this.textarea.value = parts.filter((p) => p.type === "input_text").map((p) => p.text).join("");
      this._autosize();
    }
  }

  /** Fill the composer without sending (text or tags, a reply, files, the tool and model pickers). */
  async setComposerValue({ text, content, reply, attachments, files, selectedToolId, selectedModelId } = {}) {
    if (Array.isArray(content)) {
      this.entities.setTags(content.filter((part) => part.type === "input_tag"));
      this.textarea.value = content.filter((part) => part.type === "input_text").map((part) => part.text).join("");
    } else if (text !== undefined) {
      this.textarea.value = text;
    }
    if (reply !== undefined) this._setReply(reply);
    for (const attachment of attachments || []) this.uploads.addUploaded(attachment);
    if (files && files.length) this.uploads.add([...files]);
    if (selectedToolId !== undefined) this._selectTool(selectedToolId);
    if (selectedModelId !== undefined && [...this.modelSelect.options].some((o) => o.value === selectedModelId)) {
      this.modelSelect.value = selectedModelId;
    }
    this._autosize();
  }

  async focusComposer() {
    this.textarea.focus();
  }

  /** Send a custom action to the server, as a widget's action would (ChatKit.js's sendCustomAction). */
  async sendCustomAction(action, itemId) {
    this._requireConversation();
    await this._idle();
    if (!this.thread) throw new Error("sendCustomAction needs an open thread");
    const params = { thread_id: this.thread.id, item_id: itemId || null, action: { type: action.type, payload: action.payload ?? null } };
    await this._run("threads.custom_action", params);
  }

  /** Fetch the open thread and the history list again (after the server changed them). */
  async fetchUpdates() {
    this._requireConversation();
    if (this.thread && !this.streaming) {
      const thread = await this.conversation.request("threads.get_by_id", { thread_id: this.thread.id });
      const items = await this._allItems(thread.id, thread.items);
      delete thread.items;
      this._setThread(thread, items);
    }
    await this.history.load();
  }

  connectedCallback() {
    this.layout.observe();
  }

  disconnectedCallback() {
    this.layout.unobserve();
  }

  async showHistory() {
    this._setHistoryOpen(true);
  }

  async hideHistory() {
    this._setHistoryOpen(false);
  }

  // -- building the shell ---------------------------------------------------------

  _build() {
    const root = this.shadowRoot;
    adopt(root, chatSheet(), dropinSheet());
    this.root = h("div", { class: "ck-root", part: "root", role: "region" });
    this.historyEl = h("aside", { class: "ck-history" });
    this.header = new Header(this);
    this.titleEl = this.header.title;
    this.historyToggle = this.header.historyToggle;
    this.banner = h("div", { class: "ck-banners", role: "status", "aria-live": "polite" });
    this.log = h("div", { class: "ck-log", role: "log", "aria-labelledby": "ck-title", tabindex: "0" });
    this.progressEl = h("div", { class: "ck-progress", hidden: true, "aria-live": "polite" });
    this.startEl = h("div", { class: "ck-start" });
    const scroller = h("div", { class: "ck-scroller" }, this.startEl, this.log, this.progressEl);
    this.scroller = scroller;
    this.entities = new Entities(this);
    this.composer = buildComposer(this);
    this.replyEl = h("div", { class: "ck-reply", hidden: true });
    this.commands = new Commands(this);
    this.composer.prepend(this.replyEl, this.entities.chips, this.entities.menu, this.commands.menu);
    this.composer.querySelector(".ck-composer-row").prepend(this.entities.button);
    this.entities.attach(this.textarea, this.composer, this.log);
    this.commands.attach(this.textarea, this.composer);
    this.disclaimerEl = h("div", { class: "ck-disclaimer ck-markdown", hidden: true });
    const main = h("section", { class: "ck-main", "aria-labelledby": "ck-title" }, this.header.el, this.banner, scroller, this.composer, this.disclaimerEl, this.entities.preview);
    this.mainEl = main;
    this.root.append(this.historyEl, main);
    root.append(this.root);
    this.history = new History(this, this.historyEl);
    this.layout = new Layout(this);
    this.log.addEventListener("click", (event) => this._followDeeplink(event));
  }

  _autosize() {
    autosize(this);
  }

  /** The words of the chat's own frame in the current locale (chat/i18n.js); its language and direction. */
  _applyStrings() {
    const t = this.t;
    this.root.lang = t.locale;
    this.root.dir = t.dir;
    this.root.setAttribute("aria-label", this.config.frameTitle || t("chat"));
    this.root.style.setProperty("--ck-label-stopped", JSON.stringify(t("stopped")));
    this.historyEl.setAttribute("aria-label", t("conversationHistory"));
    this.header.applyStrings();
    this._updateHeader();
    applyComposerStrings(this);
    this.entities.applyStrings();
    this.commands.applyStrings();
    this.history.applyStrings();
    this.layout.applyStrings();
    this._renderStartScreen();
  }

  _applyOptions() {
    const config = this.config;
    const locale = resolveLocale(config.locale);
    if (locale !== this.t.locale) {
      // Everything below redraws the items and the history in the new language.
      this.t = translator(locale);
      this._applyStrings();
    }
    applyTheme(this.root, config.theme, {
      onFontError: (source) => this._log("theme.font_failed", { family: source.family, src: source.src }),
    });
    this.root.setAttribute("aria-label", config.frameTitle || this.t("chat"));
    this.header.apply(config.header);
    this._updateHeader();
    applyComposerOptions(this);
    this.entities.applyOptions();
    this.commands.applyOptions();
    this._renderStartScreen();
    this.disclaimerEl.hidden = !config.disclaimer;
    this.disclaimerEl.classList.toggle("ck-high-contrast", !!(config.disclaimer && config.disclaimer.highContrast));
    this.disclaimerEl.innerHTML = config.disclaimer ? markdownToHtml(config.disclaimer.text) : ""; // escaped by markdownToHtml
    for (const item of this.items) this._upsert(item, false); // feedback/retry buttons follow threadItemActions
    this.history.render(); // rename/delete follow history.showRename/showDelete
  }

  _connect(api) {
    const hosted = api.style === "hosted";
    this.conversation = new Conversation({
      url: hosted ? SERVED_CONVERSATION_URL : api.url,
      getClientSecret: api.getClientSecret,
      fetch: api.fetch,
      domainKey: api.domainKey,
      onSession: (session) => this._onSession(session),
    });
    this.uploads.reset();
    this.uploads.refreshLimits();
    this._openNewThread();
    // Fetch a secret now: its session tells us the upload and history limits.
    const secret = this.conversation.ownsSecret ? this.conversation.refresh(null) : Promise.resolve();
    const conversation = this.conversation;
    secret
      .then(() => {
        if (conversation !== this.conversation) return undefined;
        if (this.config.initialThread) this.setThreadId(this.config.initialThread);
        return this.history.load();
      })
      .catch((error) => this._showError(error));
  }

  /** Until no response streams: a page's sendUserMessage or sendCustomAction made during one
   *  (from a widget's onAction, say) goes out after it, instead of being dropped. */
  async _idle() {
    while (this.streaming) await this.streaming.done;
  }

  _requireConversation() {
    if (!this.conversation) throw new Error("ChatKit is not configured: call setOptions({api: ...}) first");
  }

  /** chatkit.ready, once: after the options are applied and the first view is painted. */
  _scheduleReady() {
    if (this.readyState !== "new") return;
    this.readyState = "scheduled";
    // A frame to draw, then a task: a listener added right after setOptions (as
    // @openai/chatkit-react adds its handlers, in an effect) is in place by then.
    // A hidden tab draws no frames: there, the task alone (ChatKit.js's ready does not wait for one either).
    const frame = document.visibilityState === "hidden" ? (next) => next() : requestAnimationFrame;
    frame(() =>
      setTimeout(() => {
        this.readyState = "ready";
        this._emit("ready", undefined);
      }, 0),
    );
  }

  /** One chatkit.log and one console.warn per option chatkitd ignores. */
  _reportUnsupported(path) {
    if (this.reported.has(path)) return;
    this.reported.add(path);
    console.warn(`chatkitd: the ChatKit option "${path}" is not supported and is ignored.`);
    // Asynchronous, like every event before chatkit.ready: listeners added after setOptions hear it.
    setTimeout(() => this._log("unsupported_option", { option: path }), 0);
  }

  _log(name, data) {
    this._emit("log", data === undefined ? { name } : { name, data });
  }

  _renderStartScreen() {
    const start = this.config.startScreen;
    this.startEl.replaceChildren();
    this.startEl.append(h("p", { class: "ck-greeting", text: start.greeting || this.t("greeting") }));
    const prompts = h("div", { class: "ck-prompts", role: "group", "aria-label": this.t("suggestedPrompts") });
    for (const prompt of start.prompts) {
      const button = h("button", {
        type: "button",
        class: "ck-prompt",
        onclick: () => {
          const content = Array.isArray(prompt.prompt) ? prompt.prompt : null;
          this.sendUserMessage(content ? { content } : { text: prompt.prompt || prompt.label }).catch((error) => this._showError(error));
        },
      });
      if (prompt.icon) button.append(chatkitIcon(prompt.icon));
      button.append(h("span", { text: prompt.label }));
      prompts.append(button);
    }
    this.startEl.append(prompts);
    this._updateStartVisibility();
  }

  _updateStartVisibility() {
    this.startEl.hidden = !!this.thread || this.items.length > 0;
  }

  _toggleHistory() {
    this._setHistoryOpen(this.root.classList.contains("ck-history-closed"));
  }

  _setHistoryOpen(open) {
    const wasOpen = !this.root.classList.contains("ck-history-closed");
    this.root.classList.toggle("ck-history-closed", !open);
    this.historyToggle.setAttribute("aria-expanded", String(open));
    if (open !== wasOpen) this._emit(open ? "history.open" : "history.close", undefined);
    if (open !== wasOpen) this.layout.opened(open);
  }

  _selectTool(toolId) {
    const exists = toolId && [...this.toolSelect.options].some((o) => o.value === toolId);
    this.toolSelect.value = exists ? toolId : "";
    this._onToolChange();
  }

  /** After the tool picker changed: pinned buttons, the placeholder, and chatkit.tool.change. */
  _onToolChange() {
    const before = this.selectedToolId || null;
    const toolId = this.toolSelect.value || null;
    this.selectedToolId = toolId;
    const tool = this.config.composer.tools.find((t) => t.id === toolId);
    for (const button of this.composer.querySelectorAll(".ck-pinned-tool")) button.setAttribute("aria-pressed", String(button.dataset.toolId === toolId));
    this.textarea.placeholder = (tool && tool.placeholderOverride) || this.config.composer.placeholder || this.t("message");
    if (toolId !== before) this._emit("tool.change", { toolId });
  }

  _setReply(text) {
    this.replyTo = text || null;
    this.replyEl.hidden = !this.replyTo;
    this.replyEl.replaceChildren();
    if (!this.replyTo) return;
    this.replyEl.append(
      h("blockquote", { class: "ck-reply-text", text: this.replyTo }),
      h("button", { type: "button", class: "ck-icon-button", "aria-label": this.t("cancelReply"), onclick: () => this._setReply(null) }, icon("close")),
    );
  }

  _followDeeplink(event) {
    const link = event.target.closest && event.target.closest("a[href]");
    if (!link || !link.getAttribute("href").toLowerCase().startsWith(DEEPLINK)) return;
    event.preventDefault();
    try {
      this._emit("deeplink", deeplinkOf(link.getAttribute("href")));
    } catch {
      this._log("deeplink.invalid", { href: link.getAttribute("href") });
    }
  }

  // -- session --------------------------------------------------------------------

  _onSession(session) {
    // A new secret is a new session: upload counts and limits start again, and the mic is offered.
    this.uploads.reset();
    this.uploads.refreshLimits();
    this.dictation.reset();
    const history = session.chatkit_configuration && session.chatkit_configuration.history;
    this.history.setSessionLimits(history);
  }

  get sessionConfig() {
    const session = this.conversation && this.conversation.session;
    return (session && session.chatkit_configuration) || null;
  }

  // -- thread state ---------------------------------------------------------------

  /** The thread's items from its first page onwards (get_by_id answers the first page only). */
  async _allItems(threadId, firstPage) {
    let items = firstPage ? firstPage.data : [];
    let page = firstPage || { has_more: false };
    while (page.has_more) {
      page = await this.conversation.request("items.list", { thread_id: threadId, after: page.after, order: "asc", limit: 100 });
      items = items.concat(page.data);
    }
    return items;
  }

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
    this.header.setTitle(this.thread && this.thread.title);
    const status = this.thread && this.thread.status;
    const closed = status && status.type && status.type !== "active";
    this.root.classList.toggle("ck-thread-closed", !!closed);
    this.textarea.disabled = !!closed;
    this.sendButton.disabled = !!closed;
    this.attachButton.disabled = !!closed || !this.uploads.enabled;
    this.banner.querySelector(".ck-status-banner")?.remove();
    if (closed) {
      const label = this.t(status.type === "locked" ? "threadLocked" : "threadClosed");
      const text = status.reason ? `${label}: ${status.reason}` : `${label}.`;
      this.banner.prepend(h("div", { class: "ck-banner ck-status-banner", "data-level": "warning", text }));
    }
    this._refreshTurnActions();
  }

  _ctx() {
    const scheme = this.root.dataset.scheme;
    const allowed = [...this.config.widgets.allowedImageDomains, ...((this.thread && this.thread.allowed_image_domains) || [])];
    const apiUrl = (this.conversation && this.conversation.url) || location.href;
    const sameServer = imagePolicy(allowed, new URL(apiUrl, location.href).href);
    const samePage = imagePolicy(allowed);
    return {
      scheme,
      allowImage: (src) => sameServer(src) || samePage(src),
      onAction: (action, el, item) => this._onWidgetAction(action, el, item),
      onStructuredInput: (item, input) => this._answerStructuredInput(item, input),
      readOnly: false,
      t: this.t,
    };
  }

  /** Insert or replace an item's node, keeping the open state of its disclosures. */
  _upsert(item, streaming) {
    const index = this.items.findIndex((i) => i.id === item.id);
    if (index === -1) this.items.push(item);
    else this.items[index] = item;
    const node = renderItem(item, { ...this._ctx(), streaming: !!streaming });
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
    if (item.type === "user_message") this.entities.decorate(node, item);
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

  /** Copy, and (as threadItemActions asks) feedback and retry, under an assistant message. */
  _turnActions(item) {
    const actions = this.config.threadItemActions;
    const t = this.t;
    const bar = h("div", { class: "ck-turn-actions", role: "group", "aria-label": t("responseActions") });
    const thumb = (kind, label, name) =>
      h("button", {
        type: "button",
        class: "ck-icon-button ck-feedback",
        "data-kind": kind,
        "aria-label": label,
        "aria-pressed": "false",
        onclick: (event) => this._feedback(item, kind, event.currentTarget),
      }, icon(name));
    bar.append(h("button", { type: "button", class: "ck-icon-button ck-copy", "aria-label": t("copyResponse"), onclick: () => this._copy(item) }, icon("copy")));
    if (actions.feedback) bar.append(thumb("positive", t("goodResponse"), "up"), thumb("negative", t("badResponse"), "down"));
    if (actions.retry) bar.append(h("button", { type: "button", class: "ck-icon-button ck-retry", "aria-label": t("retry"), onclick: () => this.retry(item.id) }, icon("retry")));
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

  /** While streaming: follow the answer only with thread.autoScroll, and only if the reader is at the bottom. */
  _followStream(wasAtBottom) {
    if (this.config.autoScroll && wasAtBottom) this._scrollToEnd();
  }

  _atBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 48;
  }

  // -- sending and streaming ------------------------------------------------------------

  _inferenceOptions() {
    const options = {};
    if (!this.modelSelect.hidden && this.modelSelect.value) options.model = this.modelSelect.value;
    if (this.toolSelect.value) options.tool_choice = { id: this.toolSelect.value };
    return options;
  }

  /** The composer's send: its text and tags, ready files, reply, model and tool. */
  async _submit() {
    if (!this.conversation) return;
    const text = this.textarea.value.trim();
    if (this.streaming || this.uploads.busy) return;
    const attachments = this.uploads.readyIds();
    if (!text && !attachments.length && !this.entities.tags.length) return;
    const input = {
      content: this.entities.content(text),
      attachments,
      quoted_text: this.replyTo,
      inference_options: this._inferenceOptions(),
    };
    this.textarea.value = "";
    this._autosize();
    const sentUploads = this.uploads.takeReady();
    const sentTags = this.entities.take();
    const reply = this.replyTo;
    this._setReply(null);
    const tool = this.config.composer.tools.find((t) => t.id === this.toolSelect.value);
    const ok = await this._sendInput(input);
    // A refused message gives its text, tags and files back, so nothing typed is lost.
    if (!ok.delivered) {
      this.textarea.value = this.textarea.value || text;
      this.uploads.restore(sentUploads);
      this.entities.restore(sentTags);
      this._setReply(reply);
    } else if (tool && !tool.persistent) {
      this._selectTool(null); // ChatKit.js clears a tool after sending unless it is persistent
    }
  }

  _sendInput(input) {
    this._scrollToEnd();
    return this.thread
      ? this._run("threads.add_user_message", { thread_id: this.thread.id, input })
      : this._run("threads.create", { input });
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
    let finished;
    const done = new Promise((resolve) => (finished = resolve));
    this.streaming = { controller, allowCancel: true, toolCall: null, sawEvent: false, done };
    const run = this.streaming;
    this.root.classList.add("ck-busy");
    this.log.setAttribute("aria-busy", "true");
    this.sendButton.hidden = true;
    this.stopButton.hidden = false;
    this.stopButton.disabled = false; // until stream_options says the run cannot be cancelled
    this.banner.querySelectorAll(".ck-transient").forEach((el) => el.remove());
    this._refreshTurnActions();
    this._emit("response.start", undefined);
    let stopped = false;
    try {
      await this.conversation.stream(type, params, (event) => this._onEvent(event, run), { signal: controller.signal });
    } catch (error) {
      if (error.name === "AbortError") stopped = true;
      else this._showError(error);
    } finally {
      this.streaming = null;
      finished();
      for (const [id, node] of this.nodes) {
        if (!node.classList.contains("ck-streaming")) continue;
        // Drawn whole now, held-back tail included (a stopped answer gets no final item).
        const item = this.items.find((i) => i.id === id);
        if (item) this._upsert(item, false);
        else node.classList.remove("ck-streaming");
        if (stopped) this.nodes.get(id)?.classList.add("ck-stopped");
      }
      this._setProgress(null);
      this.root.classList.remove("ck-busy");
      this.log.setAttribute("aria-busy", "false");
      this.sendButton.hidden = false;
      this.stopButton.hidden = true;
      this._refreshTurnActions();
      this._emit("response.end", undefined);
    }
    if (run.toolCall && !stopped) await this._answerClientTool(run.toolCall);
    if (run.sawEvent) this.history.load();
    return { delivered: run.sawEvent };
  }

  _onEvent(event, run) {
    run.sawEvent = true;
    const atBottom = this._atBottom();
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
        // The user's own message is always brought into view.
        if (event.item.type === "user_message") this._scrollToEnd();
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
        this._emit("effect", event.data === undefined ? { name: event.name } : { name: event.name, data: event.data });
        break;
      case "error":
        this._streamError(event);
        break;
      default:
        break; // newer event types are ignored rather than breaking the chat
    }
    this._followStream(atBottom);
  }

  _setProgress(text) {
    this.progressEl.hidden = !text;
    this.progressEl.textContent = text || "";
  }

  async _answerClientTool(item) {
    const handlers = this.config.onClientTool;
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
      const handler = this.config.widgets.onAction;
      if (typeof handler === "function") {
        try {
          await handler({ type: action.type, payload: action.payload ?? undefined }, item ? { id: item.id, widget: item.widget } : null);
        } catch (error) {
          this._showError(error);
        }
      }
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

  /** A chatkit.* DOM event, and the option callback of the same name (onResponseEnd, ...). */
  _emit(name, detail) {
    const handlerName = EVENT_CALLBACKS[name];
    const handler = handlerName && (this.rawOptions[handlerName] || (this.rawOptions.events && this.rawOptions.events[handlerName]));
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

/** The drop-in name: a page written for OpenAI's ChatKit.js gets the same element. */
class OpenAIChatKit extends ChatkitdChat {}

if (!customElements.get("chatkitd-chat")) customElements.define("chatkitd-chat", ChatkitdChat);
if (!customElements.get("openai-chatkit")) customElements.define("openai-chatkit", OpenAIChatKit);

export { ChatkitdChat, OpenAIChatKit };
