// The console's one way to call chatkitd: the admin key from this tab's session
// storage, OpenAI's error envelope turned into an HttpError with its status.

export const KEY = "chatkitd.adminKey";

export class HttpError extends Error {
  constructor(status, message, code = null) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function api(path, { method = "GET", body } = {}) {
  const headers = { authorization: `Bearer ${sessionStorage.getItem(KEY)}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = answer.error || {};
    throw new HttpError(response.status, error.message || `HTTP ${response.status}`, error.code || null);
  }
  return answer;
}

/** A path with query parameters, leaving out the empty ones. */
export function withQuery(path, params) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value != null && value !== "") query.set(name, String(value));
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}
