// ChatKit.js's `entities`: @-mentions in the composer (tag search), and the tags in
// sent messages, which the page can react to (click) and preview (a widget in a popover).
//
// A chosen entity becomes a chip above the message box and is sent as an `input_tag`
// content part before the text, carrying the entity's id, group and data to the server.

import { chatkitIcon, knownIcon } from "./chatkit-icons.js";
import { h } from "./dom.js";
import { SuggestionMenu } from "./suggestions.js";
import { render as renderWidget } from "./widgets.js";

const MENTION = /(^|\s)@([^\s@]*)$/; // "@query" right before the caret

export function tagContent(entity) {
  // openai-chatkit requires `data` (ChatKit.js's Entity makes it optional).
  const part = { type: "input_tag", id: String(entity.id), text: String(entity.title ?? entity.text ?? entity.id), data: entity.data || {} };
  if (entity.group) part.group = entity.group;
  part.interactive = !!entity.interactive;
  return part;
}

function entityOf(part) {
  return { id: part.id, title: part.text, group: part.group, data: part.data, interactive: part.interactive };
}

export class Entities {
  constructor(chat) {
    this.chat = chat;
    this.tags = [];
    this.searchSeq = 0;
    this.chips = h("ul", { class: "ck-composer-tags" });
    this.suggestions = new SuggestionMenu({
      id: "ck-tag-menu",
      className: "ck-tag-menu",
      onChoose: (entry) => this._choose(entry.entity),
      onUnknownIcon: (name) => this.chat._reportUnsupported(`entities.icon=${name}`),
    });
    this.menu = this.suggestions.el;
    this.button = h("button", { type: "button", class: "ck-icon-button ck-mention-button", text: "@", hidden: true, onclick: () => this._startMention() });
    this.preview = h("div", { class: "ck-entity-preview", role: "tooltip", hidden: true });
  }

  get options() {
    return this.chat.config.entities;
  }

  /** Wire the composer's textarea and the conversation log. */
  /** Its words, in the chat's locale (chat/i18n.js). */
  applyStrings() {
    const t = this.chat.t;
    this.chips.setAttribute("aria-label", t("tagged"));
    this.suggestions.setLabel(t("suggestions"));
    this.button.setAttribute("aria-label", t("mention"));
    if (this.tags) this._renderChips();
  }

  attach(textarea, form, log) {
    this.textarea = textarea;
    this.suggestions.attach(textarea);
    textarea.addEventListener("input", () => this._search());
    // Capture on the form: runs before the textarea's own Enter-to-send.
    form.addEventListener("keydown", (event) => this._keydown(event), true);
    log.addEventListener("click", (event) => this._clickTag(event));
    log.addEventListener("keydown", (event) => {
      if ((event.key === "Enter" || event.key === " ") && event.target.classList?.contains("ck-tag")) this._clickTag(event);
    });
    log.addEventListener("mouseover", (event) => this._previewTag(event));
    log.addEventListener("focusin", (event) => this._previewTag(event));
    log.addEventListener("mouseout", (event) => event.target.classList?.contains("ck-tag") && this._hidePreview());
    log.addEventListener("focusout", () => this._hidePreview());
  }

  applyOptions() {
    this.button.hidden = !(this.options.onTagSearch && this.options.showComposerMenu);
  }

  /** The message's content parts: its tags, then its text. */
  content(text) {
    const parts = this.tags.map(tagContent);
    if (text || !parts.length) parts.push({ type: "input_text", text });
    return parts;
  }

  /** Add an entity as a tag (a chosen mention, or what a command's onSelect returned). */
  add(entity) {
    this.tags.push(entity);
    this._renderChips();
  }

  setTags(parts) {
    this.tags = parts.map((part) => entityOf(part));
    this._renderChips();
  }

  take() {
    const tags = this.tags;
    this.tags = [];
    this._renderChips();
    return tags;
  }

  restore(tags) {
    this.tags = tags;
    this._renderChips();
  }

  /** Make the interactive tags of a rendered user message focusable, so they can be clicked
   *  and previewed by keyboard too. (ChatKit.js: only an `interactive` entity is clicked or previewed.) */
  decorate(node, item) {
    const parts = (item.content || []).filter((part) => part.type === "input_tag");
    node.querySelectorAll(".ck-tag").forEach((el, index) => {
      const part = parts[index];
      if (!part) return;
      el.dataset.entityId = part.id;
      el.dataset.tagIndex = String(index);
      if (part.interactive && (this.options.onClick || this.options.onRequestPreview)) {
        el.tabIndex = 0;
        el.setAttribute("role", "button");
      }
    });
  }

  _entityAt(el) {
    const node = el.closest("[data-item-id]");
    const item = node && this.chat.items.find((i) => i.id === node.dataset.itemId);
    const parts = item ? (item.content || []).filter((part) => part.type === "input_tag") : [];
    const part = parts[Number(el.dataset.tagIndex)];
    return part && part.interactive ? entityOf(part) : null;
  }

  _clickTag(event) {
    const el = event.target.closest?.(".ck-tag");
    if (!el || !this.options.onClick) return;
    const entity = this._entityAt(el);
    if (!entity) return;
    event.preventDefault();
    this.options.onClick(entity);
  }

  async _previewTag(event) {
    const el = event.target.closest?.(".ck-tag");
    if (!el || !this.options.onRequestPreview) return;
    const entity = this._entityAt(el);
    if (!entity) return;
    const seq = ++this.searchSeq;
    try {
      const answer = await this.options.onRequestPreview(entity);
      if (seq !== this.searchSeq || !answer || !answer.preview) return;
      this.preview.replaceChildren(renderWidget(answer.preview, this.chat._ctx()));
      this.preview.hidden = false;
      el.setAttribute("aria-describedby", "ck-entity-preview");
      this.preview.id = "ck-entity-preview";
    } catch (error) {
      this.chat._log("entities.preview_failed", { message: String(error && error.message) });
    }
  }

  _hidePreview() {
    this.searchSeq += 1;
    this.preview.hidden = true;
  }

  _startMention() {
    const box = this.textarea;
    const before = box.value.slice(0, box.selectionStart);
    const spacer = before && !/\s$/.test(before) ? " " : "";
    box.setRangeText(`${spacer}@`, box.selectionStart, box.selectionEnd, "end");
    box.focus();
    this._search();
  }

  async _search() {
    const search = this.options.onTagSearch;
    const match = search && MENTION.exec(this.textarea.value.slice(0, this.textarea.selectionStart));
    if (!match) return this.suggestions.close();
    const seq = ++this.searchSeq;
    let results = [];
    try {
      results = (await search(match[2])) || [];
    } catch (error) {
      this.chat._log("entities.search_failed", { message: String(error && error.message) });
    }
    if (seq !== this.searchSeq) return; // a later keystroke's search wins
    const entities = results.filter((e) => e && e.id != null);
    this.suggestions.show(entities.map((entity) => ({ label: entity.title, group: entity.group, icon: entity.icon, entity })));
  }

  _keydown(event) {
    if (event.target !== this.textarea || !this.suggestions.keydown(event)) return;
    event.preventDefault();
    event.stopImmediatePropagation();
  }

  _choose(entity) {
    const box = this.textarea;
    const caret = box.selectionStart;
    const match = MENTION.exec(box.value.slice(0, caret));
    if (match) {
      const start = caret - match[2].length - 1;
      box.value = box.value.slice(0, start) + box.value.slice(caret);
      box.setSelectionRange(start, start);
    }
    this.add(entity);
    this.suggestions.close();
    box.focus();
  }

  /** An entity's `icon` (a ChatKit icon name or `lucide:<name>`; the menu reported an unknown one). */
  _icon(entity) {
    return entity.icon && knownIcon(entity.icon) ? [chatkitIcon(entity.icon, 14)] : [];
  }

  _renderChips() {
    this.chips.replaceChildren(
      ...this.tags.map((entity, index) =>
        h("li", { class: "ck-composer-tag" },
          ...this._icon(entity),
          h("span", { class: "ck-tag", text: `@${entity.title}` }),
          h("button", {
            type: "button",
            class: "ck-icon-button",
            "aria-label": this.chat.t("removeTag", { name: entity.title }),
            text: "×",
            onclick: () => {
              this.tags.splice(index, 1);
              this._renderChips();
            },
          })),
      ),
    );
    this.chips.hidden = !this.tags.length;
  }
}
