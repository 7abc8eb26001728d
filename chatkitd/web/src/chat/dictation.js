// Dictation: the composer's microphone button (ChatKit.js's `composer.dictation`).
//
// The browser records with MediaRecorder; on stop, the recording goes to the server as
// `input.transcribe` (base64 and its MIME type), and the text that comes back is put into
// the message box at the cursor, for the user to read and send. The server forwards it to
// whichever OpenAI-compatible transcription endpoint it is configured with.

import { h } from "./dom.js";
import { icon } from "./icons.js";

// What browsers record in, best first; the server accepts each.
const TYPES = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/mp4", "audio/webm"];

function base64Of(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1] || "");
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

export class Dictation {
  constructor(chat) {
    this.chat = chat;
    this.state = "idle"; // idle -> recording -> transcribing -> idle
    this.recorder = null;
    this.button = h("button", {
      type: "button",
      class: "ck-icon-button ck-dictate",
      "aria-pressed": "false",
      hidden: true,
      onclick: () => this.toggle(),
    }, icon("mic"));
  }

  /** Shown when the page turned dictation on, the browser can record, and the server has not
   * answered that it cannot transcribe (`transcription_not_supported`) for this session. */
  setEnabled(enabled) {
    this.enabled = enabled;
    const possible = !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia) && typeof MediaRecorder !== "undefined";
    this.button.hidden = !(enabled && possible) || !!this.unavailable;
  }

  /** A new session (another workflow, another server) may transcribe: offer the mic again. */
  reset() {
    this.unavailable = false;
    this.setEnabled(!!this.enabled);
  }

  applyStrings() {
    const t = this.chat.t;
    const label = { idle: "dictate", recording: "stopDictation", transcribing: "transcribing" }[this.state];
    this.button.setAttribute("aria-label", t(label));
    this.button.title = t(label);
  }

  _set(state) {
    this.state = state;
    this.button.setAttribute("aria-pressed", String(state === "recording"));
    this.button.disabled = state === "transcribing";
    this.button.dataset.state = state;
    this.applyStrings();
  }

  async toggle() {
    if (this.state === "recording") this.recorder.stop();
    else if (this.state === "idle") await this._start();
  }

  async _start() {
    const chat = this.chat;
    chat.composerError.textContent = "";
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch {
      chat.composerError.textContent = chat.t("microphoneUnavailable");
      return;
    }
    const mimeType = TYPES.find((type) => MediaRecorder.isTypeSupported(type));
    const recorder = new MediaRecorder(stream, mimeType ? { mimeType } : undefined);
    const chunks = [];
    recorder.ondataavailable = (event) => {
      if (event.data && event.data.size) chunks.push(event.data);
    };
    recorder.onstop = () => {
      for (const track of stream.getTracks()) track.stop();
      this.recorder = null;
      this._transcribe(new Blob(chunks, { type: recorder.mimeType || mimeType || "audio/webm" }));
    };
    this.recorder = recorder;
    recorder.start();
    this._set("recording");
  }

  async _transcribe(blob) {
    const chat = this.chat;
    this._set("transcribing");
    try {
      const audio = await base64Of(blob);
      const result = await chat.conversation.request("input.transcribe", { audio_base64: audio, mime_type: blob.type || "audio/webm" });
      const text = (result && result.text) || "";
      if (text) {
        // At the cursor, with a space between it and what was typed before.
        const box = chat.textarea;
        const start = box.selectionStart ?? box.value.length;
        const end = box.selectionEnd ?? box.value.length;
        const before = box.value.slice(0, start);
        const joiner = before && !/\s$/.test(before) ? " " : "";
        box.value = `${before}${joiner}${text}${box.value.slice(end)}`;
        const caret = before.length + joiner.length + text.length;
        box.setSelectionRange(caret, caret);
        box.dispatchEvent(new Event("input", { bubbles: true }));
      }
    } catch (error) {
      chat.composerError.textContent = (error && error.message) || chat.t("errorGeneric");
      // The server has no transcription for this chat: the mic goes, not just this recording.
      if (error && error.code === "transcription_not_supported") this.unavailable = true;
    } finally {
      if (this.unavailable) this.button.hidden = true;
      this._set("idle");
      chat.textarea.focus();
    }
  }
}
