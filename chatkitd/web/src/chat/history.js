// The history sidebar: the user's threads, to open, rename and delete.
//
// The server applies the session's history settings (disabled history shows only
// this session's threads; recent_threads caps the list), so the sidebar shows
// what threads.list answers and says which limit is in force.

import { icon } from "./icons.js";

const PAGE_SIZE = 30;

function h(tag, attrs = {}, text) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") el.className = value;
    else el.setAttribute(key, value);
  }
  if (text != null) el.textContent = text;
  return el;
}

export class History {
  constructor(chat, container) {
    this.chat = chat;
    this.container = container;
    this.threads = [];
    this.activeId = null;
    this.enabled = true;
    this.note = h("p", { class: "ck-history-note" });
    this.list = h("ul", { class: "ck-thread-list" });
    this.heading = h("h3", { class: "ck-history-title" });
    this.limits = null;
    container.append(this.heading, this.note, this.list);
  }

  /** The sidebar's fixed words, in the chat's locale. */
  applyStrings() {
    this.heading.textContent = this.chat.t("history");
    this._showLimits();
  }

  setEnabled(enabled) {
    const changed = this.enabled !== enabled;
    this.enabled = enabled;
    if (changed && enabled) this.load();
    this.chat.root.classList.toggle("ck-no-history", !enabled);
    this.chat.historyToggle.hidden = !enabled;
  }

  setSessionLimits(history) {
    if (!history) return;
    this.limits = history;
    this._showLimits();
  }

  _showLimits() {
    const history = this.limits || {};
    const t = this.chat.t;
    if (history.enabled === false) this.note.textContent = t("historyThisSession");
    else if (history.recent_threads) this.note.textContent = t("historyRecent", { count: history.recent_threads });
    else this.note.textContent = "";
  }

  async load() {
    if (!this.enabled || !this.chat.conversation) return;
    try {
      const page = await this.chat.conversation.request("threads.list", { limit: PAGE_SIZE, order: "desc" });
      this.threads = page.data || [];
      this.render();
    } catch (error) {
      this.chat._showError(error);
    }
  }

  upsert(thread, atTop) {
    const index = this.threads.findIndex((t) => t.id === thread.id);
    if (index !== -1) this.threads[index] = { ...this.threads[index], ...thread };
    else if (atTop) this.threads.unshift(thread);
    this.render();
  }

  markActive(threadId) {
    this.activeId = threadId || null;
    for (const li of this.list.children) {
      const open = li.querySelector(".ck-thread-open");
      if (!open) continue; // the "no conversations" line, or an entry being renamed
      if (li.dataset.threadId === this.activeId) open.setAttribute("aria-current", "true");
      else open.removeAttribute("aria-current");
    }
  }

  render() {
    // A refresh (a live title, a reload of the list) must not pull the input out
    // from under someone renaming a thread; finishing the rename renders anyway.
    if (this.renaming) return;
    // Focus on a row stays on that row's same control: a refresh must not throw a keyboard
    // user (or the drawer's focus trap) out of the list.
    const active = this.chat.shadowRoot.activeElement;
    const focused = active && this.list.contains(active) ? { id: active.closest("li").dataset.threadId, cls: active.className } : null;
    this.list.replaceChildren(...this.threads.map((thread) => this._entry(thread)));
    if (!this.threads.length) this.list.append(h("li", { class: "ck-thread-empty" }, this.chat.t("noConversations")));
    this.markActive(this.activeId);
    if (focused) {
      const row = [...this.list.children].find((li) => li.dataset.threadId === focused.id);
      const again = row && [...row.querySelectorAll("button")].find((b) => b.className === focused.cls);
      (again || this.chat.historyEl.querySelector(".ck-thread-open") || this.chat.layout.closeButton).focus();
    }
  }

  _entry(thread) {
    const t = this.chat.t;
    const title = thread.title || t("newConversation");
    const li = h("li", { class: "ck-thread" });
    li.dataset.threadId = thread.id;
    const open = h("button", { type: "button", class: "ck-thread-open", title }, title);
    open.addEventListener("click", () => {
      this.chat.layout.chose();
      this.chat.setThreadId(thread.id);
    });
    const rename = h("button", { type: "button", class: "ck-icon-button ck-thread-rename", "aria-label": t("renameThread", { title }) });
    rename.append(icon("pencil"));
    rename.addEventListener("click", () => this._rename(li, thread));
    const remove = h("button", { type: "button", class: "ck-icon-button ck-thread-delete", "aria-label": t("deleteThread", { title }) });
    remove.append(icon("trash"));
    // Two clicks to delete, without a modal dialog: the first arms, the second deletes.
    remove.addEventListener("click", () => {
      if (remove.dataset.armed) return this._delete(thread);
      remove.dataset.armed = "true";
      remove.textContent = t("deleteConfirm");
      remove.setAttribute("aria-label", t("confirmDeleteThread", { title }));
    });
    remove.addEventListener("blur", () => {
      delete remove.dataset.armed;
      remove.replaceChildren(icon("trash"));
      remove.setAttribute("aria-label", t("deleteThread", { title }));
    });
    // ChatKit.js's history.showRename / history.showDelete (both on unless turned off).
    const { showRename, showDelete } = this.chat.config.history;
    li.append(open, ...(showRename ? [rename] : []), ...(showDelete ? [remove] : []));
    return li;
  }

  _rename(li, thread) {
    const input = h("input", { class: "ck-thread-title-input", "aria-label": this.chat.t("conversationTitle") });
    input.value = thread.title || "";
    const open = li.querySelector(".ck-thread-open");
    open.replaceWith(input);
    input.focus();
    input.select();
    this.renaming = true;
    let done = false;
    const finish = async (save) => {
      if (done) return;
      done = true;
      this.renaming = false;
      const title = input.value.trim();
      if (save && title && title !== thread.title) {
        try {
          const updated = await this.chat.conversation.request("threads.update", { thread_id: thread.id, title });
          this.upsert({ ...thread, ...updated, title }, false);
          if (this.chat.thread && this.chat.thread.id === thread.id) {
            this.chat.thread = { ...this.chat.thread, title };
            this.chat._updateHeader();
          }
          return;
        } catch (error) {
          this.chat._showError(error);
        }
      }
      this.render();
    };
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") finish(true);
      if (event.key === "Escape") finish(false);
    });
    input.addEventListener("blur", () => finish(true));
  }

  async _delete(thread) {
    try {
      await this.chat.conversation.request("threads.delete", { thread_id: thread.id });
      this.threads = this.threads.filter((t) => t.id !== thread.id);
      this.render();
      if (this.chat.thread && this.chat.thread.id === thread.id) this.chat._openNewThread();
    } catch (error) {
      this.chat._showError(error);
    }
  }
}
