// The conversation transport: one POST per operation to /v1/chatkit/conversation.
//
// With a `getClientSecret` (ChatKit.js's hosted style) it owns the client secret: a
// 401 saying the secret expired, was cancelled or is unknown makes it ask the page for
// a new one (getClientSecret(current)) and retry once, so a user who leaves a tab open
// never sees a dead chat. In the custom style (`url` + `fetch` + `domainKey`) the page's
// own fetch adds whatever credentials it needs, uploads included.

export const DOMAIN_KEY_HEADER = "chatkit-domain-key";

const REFRESH_CODES = new Set(["session_expired", "session_cancelled", "invalid_client_secret"]);

/** An error from the server, in OpenAI's envelope, with the HTTP status kept. */
export class ChatKitError extends Error {
  constructor(status, body, retryAfter = null) {
    const error = (body && body.error) || {};
    super(error.message || `Request failed with status ${status}`);
    this.name = "ChatKitError";
    this.status = status;
    this.code = error.code || null;
    this.type = error.type || null;
    this.param = error.param || null;
    this.retryAfter = retryAfter; // seconds, from Retry-After on a 429
  }
}

/** Normalise what getClientSecret returned: a string, or a session object carrying one. */
function asSession(value) {
  if (typeof value === "string") return { client_secret: value };
  if (value && typeof value.client_secret === "string") return value;
  throw new Error("getClientSecret must return a client secret string or a session object");
}

export class Conversation {
  /**
   * @param {{url: string, getClientSecret?: (current: string|null) => Promise<string|object>,
   *          fetch?: typeof fetch, domainKey?: string, onSession?: (session: object) => void}} api
   */
  constructor(api) {
    this.url = api.url || "/v1/chatkit/conversation";
    this.getClientSecret = api.getClientSecret || null;
    this.fetch = api.fetch || null;
    this.domainKey = api.domainKey || null;
    this.onSession = api.onSession || (() => {});
    this.session = null;
    this._pending = null; // one in-flight getClientSecret shared by concurrent callers
  }

  get secret() {
    return this.session ? this.session.client_secret : null;
  }

  /** Fetch a (new) secret; concurrent callers share one call to the page. */
  async refresh(current = this.secret) {
    if (!this._pending) {
      this._pending = (async () => {
        try {
          this.session = asSession(await this.getClientSecret(current));
          this.onSession(this.session);
          return this.session;
        } finally {
          this._pending = null;
        }
      })();
    }
    return this._pending;
  }

  /** Whether this transport holds a secret (hosted style) or leaves credentials to the page's fetch. */
  get ownsSecret() {
    return typeof this.getClientSecret === "function";
  }

  _fetch(url, init) {
    return this.fetch ? this.fetch(url, init) : fetch(url, init);
  }

  async _post(body, signal) {
    if (this.ownsSecret && !this.session) await this.refresh(null);
    let refreshed = false;
    for (;;) {
      const headers = { "content-type": "application/json" };
      if (this.secret) headers.authorization = `Bearer ${this.secret}`;
      if (this.domainKey) headers[DOMAIN_KEY_HEADER] = this.domainKey;
      const response = await this._fetch(this.url, { method: "POST", headers, body: JSON.stringify(body), signal });
      if (response.ok) return response;
      const error = await errorFrom(response);
      if (response.status === 401 && REFRESH_CODES.has(error.code) && !refreshed && this.ownsSecret) {
        refreshed = true;
        await this.refresh(this.secret);
        continue;
      }
      throw error;
    }
  }

  /** A non-streaming operation: resolves to its JSON answer. */
  async request(type, params, { signal } = {}) {
    const response = await this._post({ type, params }, signal);
    const text = await response.text();
    return text ? JSON.parse(text) : {};
  }

  /**
   * A streaming operation: calls onEvent for each `data:` frame, in order.
   * Aborting `signal` closes the connection, which the server treats as cancel.
   */
  async stream(type, params, onEvent, { signal } = {}) {
    const response = await this._post({ type, params }, signal);
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      // Frames end with a blank line; a frame may arrive split across chunks.
      let end;
      while ((end = buffer.indexOf("\n\n")) !== -1) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = frame
          .split("\n")
          .filter((line) => line.startsWith("data:"))
          .map((line) => line.slice(5).replace(/^ /, ""))
          .join("\n");
        if (data) onEvent(JSON.parse(data));
      }
    }
  }

  /**
   * Send a file's bytes to an attachment's upload descriptor (or the direct strategy's
   * URL) with progress. To our own server it carries the secret, waiting for one if the
   * page's getClientSecret has not answered yet, and asking again (once) if the server
   * says it expired, as every other request does.
   */
  async upload(descriptor, file, onProgress, { signal } = {}) {
    if (this.fetch) return this._uploadWithPageFetch(descriptor, file, onProgress, signal);
    // Our secret goes only to our own server, never to a third-party upload URL.
    const sameServer = new URL(descriptor.url, location.href).origin === new URL(this.url, location.href).origin;
    const hasAuth = Object.keys(descriptor.headers || {}).some((h) => h.toLowerCase() === "authorization");
    const withSecret = sameServer && !hasAuth && this.ownsSecret;
    if (withSecret && !this.session) await this.refresh(null);
    try {
      return await this._xhrUpload(descriptor, file, onProgress, signal, withSecret ? this.secret : null);
    } catch (error) {
      if (!withSecret || error.status !== 401 || !REFRESH_CODES.has(error.code)) throw error;
      await this.refresh(this.secret);
      return this._xhrUpload(descriptor, file, onProgress, signal, this.secret);
    }
  }

  /** One upload by XMLHttpRequest, because fetch cannot report upload progress. */
  _xhrUpload(descriptor, file, onProgress, signal, secret) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(descriptor.method || "POST", descriptor.url);
      for (const [name, value] of Object.entries(descriptor.headers || {})) xhr.setRequestHeader(name, value);
      if (secret) xhr.setRequestHeader("authorization", `Bearer ${secret}`);
      xhr.upload.onprogress = (event) => {
        if (event.lengthComputable) onProgress(event.loaded / event.total);
      };
      xhr.onload = () => {
        let body = null;
        try {
          body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
        } catch {
          body = null;
        }
        if (xhr.status >= 200 && xhr.status < 300) {
          onProgress(1);
          resolve(body);
        } else {
          reject(new ChatKitError(xhr.status, body, retryAfterOf(xhr.getResponseHeader("retry-after"))));
        }
      };
      xhr.onerror = () => reject(new Error(`Upload of ${file.name} failed: network error`));
      xhr.onabort = () => reject(new DOMException("Upload aborted", "AbortError"));
      if (signal) signal.addEventListener("abort", () => xhr.abort(), { once: true });
      const form = new FormData();
      form.append("file", file, file.name);
      xhr.send(form);
    });
  }

  /** The custom style's upload: through the page's fetch, which adds its credentials (no progress events). */
  async _uploadWithPageFetch(descriptor, file, onProgress, signal) {
    const form = new FormData();
    form.append("file", file, file.name);
    const headers = { ...(descriptor.headers || {}) };
    if (this.domainKey) headers[DOMAIN_KEY_HEADER] = this.domainKey;
    const response = await this._fetch(descriptor.url, { method: descriptor.method || "POST", headers, body: form, signal });
    if (!response.ok) throw await errorFrom(response);
    onProgress(1);
    const text = await response.text();
    return text ? JSON.parse(text) : null;
  }
}

function retryAfterOf(header) {
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

async function errorFrom(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  return new ChatKitError(response.status, body, retryAfterOf(response.headers.get("retry-after")));
}
