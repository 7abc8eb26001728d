// A support page as ChatKit's docs write one with @openai/chatkit-react, unchanged but for
// the script tag in index.html. `?style=custom` uses the custom api style instead of the hosted one.
import { ChatKit, useChatKit } from "@openai/chatkit-react";

const seen = (window.chatEvents = []);

async function fetchClientSecret() {
  const res = await fetch("/api/chatkit/session", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
  });
  const { client_secret } = await res.json();
  return client_secret;
}

function hostedApi() {
  return {
    async getClientSecret(existing) {
      if (existing) {
        // the session expired: ask the backend for a fresh one
      }
      return fetchClientSecret();
    },
  };
}

function customApi() {
  let token = null;
  return {
    url: window.CHATKIT_API_URL,
    domainKey: "domain_pk_support",
    async fetch(url, options) {
      token = token || (await fetchClientSecret());
      return fetch(url, { ...options, headers: { ...options.headers, Authorization: `Bearer ${token}` } });
    },
    uploadStrategy: { type: "two_phase" },
  };
}

const api = new URLSearchParams(location.search).get("style") === "custom" ? customApi() : hostedApi();

export function SupportChat() {
  const { control, sendUserMessage } = useChatKit({
    api,
    theme: { colorScheme: "light", radius: "round", color: { accent: { primary: "#0f766e", level: 1 } } },
    startScreen: {
      greeting: "How can we help?",
      prompts: [{ label: "Show a widget", prompt: "widget", icon: "sparkle" }],
    },
    composer: { placeholder: "Ask support", attachments: { enabled: true, maxCount: 5 } },
    threadItemActions: { feedback: true },
    onClientTool: async (invocation) => {
      if (invocation.name === "get_client_info") {
        return { app: "support", fields: invocation.params.fields };
      }
      return { error: `unknown tool ${invocation.name}` };
    },
    onReady: () => seen.push("ready"),
    onResponseStart: () => seen.push("response.start"),
    onResponseEnd: () => seen.push("response.end"),
    onThreadChange: ({ threadId }) => seen.push(`thread.change:${threadId ? "thread" : "new"}`),
    onError: ({ error }) => seen.push(`error:${error.message}`),
  });
  window.sendFromReact = (text) => sendUserMessage({ text });
  return <ChatKit control={control} className="h-[600px] w-[320px]" />;
}
