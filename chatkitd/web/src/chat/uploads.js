// The composer's files: limit checks, two-phase or direct upload with progress,
// and the list of files waiting to be sent.
//
// Limits are checked before a single byte leaves the page, with the limit's own
// message, so a user is never left waiting on an upload the server would refuse.
// The server checks again; its message is shown if it does refuse.

import { icon } from "./icons.js";
import { withClass as h } from "./dom.js";

const MB = 1024 * 1024;

function formatSize(bytes) {
  if (bytes >= MB) return `${(bytes / MB).toFixed(1)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} bytes`;
}

export class Uploads {
  constructor(chat, listEl) {
    this.chat = chat;
    this.listEl = listEl;
    this.entries = []; // {file, status: uploading|ready|error, progress, attachment, controller, el}
    this.sessionCount = 0; // files created in this session: max_files counts them all
  }

  reset() {
    this.sessionCount = 0;
  }

  /** The effective limits: the session's, narrowed by the page's composer.attachments options. */
  get limits() {
    const option = this.chat.config.composer.attachments || {};
    const session = this.chat.sessionConfig && this.chat.sessionConfig.file_upload;
    // ChatKit.js's rule: off unless the page enables them (composer.attachments.enabled);
    // a session that says (hosted style) must allow them too.
    const enabled = option.enabled === true && (!session || !!session.enabled);
    const sessionBytes = session && session.max_file_size ? session.max_file_size * MB : null;
    let maxFiles = session && session.max_files ? session.max_files : null;
    if (option.maxCount && (!maxFiles || option.maxCount < maxFiles)) maxFiles = option.maxCount;
    return { enabled, sessionBytes, maxSize: option.maxSize ?? null, maxFiles, accept: option.accept || null };
  }

  /** The size limit for one file: the session's, narrowed by `maxSize` (a number, or per MIME pattern). */
  maxBytesFor(file) {
    const { sessionBytes, maxSize } = this.limits;
    let pageBytes = null;
    if (typeof maxSize === "number") pageBytes = maxSize;
    else if (maxSize && typeof maxSize === "object") {
      const mime = file.type || "application/octet-stream";
      const pattern = Object.keys(maxSize).find((p) => p === mime)
        || Object.keys(maxSize).find((p) => p.endsWith("/*") && mime.startsWith(p.slice(0, -1)))
        || Object.keys(maxSize).find((p) => p === "*" || p === "");
      if (pattern !== undefined) pageBytes = maxSize[pattern];
    }
    if (pageBytes == null) return sessionBytes;
    return sessionBytes == null ? pageBytes : Math.min(pageBytes, sessionBytes);
  }

  /** Whether the file matches `accept` ({mime pattern: [extensions]}), when the page gave one. */
  accepts(file) {
    const accept = this.limits.accept;
    if (!accept) return true;
    const mime = (file.type || "").toLowerCase();
    const name = file.name.toLowerCase();
    return Object.entries(accept).some(([pattern, exts]) => {
      pattern = pattern.toLowerCase();
      const mimeOk = pattern === mime || (pattern.endsWith("/*") && mime.startsWith(pattern.slice(0, -1)));
      return mimeOk || (exts || []).some((ext) => name.endsWith(String(ext).toLowerCase()));
    });
  }

  get enabled() {
    return this.limits.enabled;
  }

  get busy() {
    return this.entries.some((e) => e.status === "uploading");
  }

  refreshLimits() {
    const { enabled } = this.limits;
    this.chat.attachButton.hidden = !enabled;
    this.chat.attachButton.disabled = !enabled;
  }

  readyIds() {
    return this.entries.filter((e) => e.status === "ready").map((e) => e.attachment.id);
  }

  /** Remove the ready files from the composer (they are being sent); returned so a refusal can restore them. */
  takeReady() {
    const ready = this.entries.filter((e) => e.status === "ready");
    this.entries = this.entries.filter((e) => e.status !== "ready");
    for (const entry of ready) entry.el.remove();
    return ready;
  }

  restore(entries) {
    for (const entry of entries) {
      this.entries.push(entry);
      this.listEl.append(entry.el);
    }
  }

  _refuse(message) {
    this.chat.composerError.textContent = message;
  }

  /** Check every file first; none is uploaded if any breaks a limit. */
  add(files) {
    this.chat.composerError.textContent = "";
    const { enabled, maxFiles } = this.limits;
    const t = this.chat.t;
    if (!enabled) return this._refuse(t("uploadsOff"));
    if (maxFiles != null && this.sessionCount + files.length > maxFiles) {
      return this._refuse(t("maxFiles", { count: maxFiles }));
    }
    for (const file of files) {
      if (!this.accepts(file)) return this._refuse(t("fileNotAccepted", { name: file.name }));
      const maxBytes = this.maxBytesFor(file);
      if (maxBytes != null && file.size > maxBytes) {
        return this._refuse(t("fileTooLarge", { name: file.name, size: formatSize(file.size), limit: formatSize(maxBytes) }));
      }
    }
    for (const file of files) this._upload(file);
  }

  _render(entry) {
    const li = entry.el || h("li", "ck-pending-attachment");
    li.replaceChildren();
    li.dataset.status = entry.status;
    li.append(h("span", "ck-attachment-name", entry.file.name));
    if (entry.status === "uploading") {
      const bar = h("progress", "ck-upload-progress");
      bar.max = 1;
      bar.value = entry.progress;
      bar.setAttribute("aria-label", this.chat.t("uploading", { name: entry.file.name }));
      li.append(bar);
    } else if (entry.status === "error") {
      li.append(h("span", "ck-upload-error", entry.error));
    }
    const remove = h("button", "ck-icon-button");
    remove.append(icon("close"));
    remove.type = "button";
    remove.setAttribute("aria-label", this.chat.t("removeFile", { name: entry.file.name }));
    remove.addEventListener("click", () => this._discard(entry));
    li.append(remove);
    entry.el = li;
    return li;
  }

  async _upload(file) {
    const entry = { file, status: "uploading", progress: 0, attachment: null, controller: new AbortController(), el: null };
    this.entries.push(entry);
    this.listEl.append(this._render(entry));
    this.sessionCount += 1;
    const conversation = this.chat.conversation;
    const strategy = (this.chat.config.api && this.chat.config.api.uploadStrategy) || { type: "two_phase" };
    const onProgress = (fraction) => {
      entry.progress = fraction;
      const bar = entry.el.querySelector("progress");
      if (bar) bar.value = fraction;
    };
    try {
      if (strategy.type === "direct") {
        entry.attachment = await conversation.upload({ url: strategy.uploadUrl, method: "POST" }, file, onProgress, { signal: entry.controller.signal });
      } else {
        const mime = file.type || "application/octet-stream";
        const attachment = await conversation.request("attachments.create", { name: file.name, size: file.size, mime_type: mime });
        entry.attachment = attachment;
        if (attachment.upload_descriptor) {
          const uploaded = await conversation.upload(attachment.upload_descriptor, file, onProgress, { signal: entry.controller.signal });
          if (uploaded && uploaded.id) entry.attachment = uploaded;
        }
      }
      entry.status = "ready";
    } catch (error) {
      if (error.name === "AbortError") return;
      entry.status = "error";
      entry.error = error.message || this.chat.t("uploadFailed");
      this._refuse(entry.error);
    }
    if (this.entries.includes(entry)) this._render(entry);
  }

  /** An attachment the page's server already uploaded (setComposerValue's `attachments`). */
  addUploaded(attachment) {
    const file = { name: attachment.name || attachment.id, size: 0, type: attachment.mime_type || "" };
    const entry = { file, status: "ready", progress: 1, attachment, controller: new AbortController(), el: null, preuploaded: true };
    this.entries.push(entry);
    this.listEl.append(this._render(entry));
  }

  _discard(entry) {
    entry.controller.abort();
    this.entries = this.entries.filter((e) => e !== entry);
    entry.el.remove();
    if (entry.attachment && !entry.preuploaded) {
      this.chat.conversation.request("attachments.delete", { attachment_id: entry.attachment.id }).catch(() => {});
    }
  }
}
