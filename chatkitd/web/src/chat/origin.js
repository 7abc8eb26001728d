// Where this script was served from: the chatkitd a hosted-style page talks to.
//
// ChatKit.js's hosted style (`api: {getClientSecret}`) names no server: the script
// talks to the service it came from. chatkitd's script does the same, so a page
// that swaps OpenAI's <script src> for chatkitd's needs nothing else. Read once, while
// the script runs: a classic script knows itself only then (document.currentScript),
// a module through import.meta.url (build.mjs defines it as undefined in the classic build).

function scriptUrl() {
  const current = typeof document !== "undefined" && document.currentScript;
  if (current && current.src) return current.src;
  const meta = import.meta.url;
  return meta || location.href;
}

export const SCRIPT_URL = scriptUrl();

/** Where chatkitd answers: what precedes `/static/` in the script's URL, so a chatkitd a
 *  reverse proxy serves under a path (`https://app.example.com/chat/static/chatkit.js`) is
 *  reached under that path too. */
function servedBase(url) {
  const path = new URL(url).pathname;
  const at = path.lastIndexOf("/static/");
  return new URL(at === -1 ? "/" : path.slice(0, at + 1), url);
}

/** The conversation endpoint of the chatkitd that served this script. */
export const SERVED_CONVERSATION_URL = new URL("v1/chatkit/conversation", servedBase(SCRIPT_URL)).href;
