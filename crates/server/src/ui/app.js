// The built-in page: sign in, pick an agent, chat over the stream endpoint, sign out.
// Plain browser JavaScript, no build step; it talks only to this origin's API.
"use strict";

(() => {
  const PAGE = "/ui/";
  const meta = document.querySelector('meta[name="mastra-api-prefix"]');
  const prefix = (meta && meta.content) || "/api";
  const $ = (id) => document.getElementById(id);

  const state = {
    login: null, // {type, url} when the server offers a browser sign-in
    signedIn: false,
    agents: [], // [{id, name, description}]
    agentId: null,
    history: [], // [{role, content}] of the current chat
    busy: false,
  };

  /** An API answer that was not 2xx, or no answer at all (status 0). */
  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  /** `fetch` under the API prefix with the session cookie; throws ApiError unless 2xx. */
  async function api(path, options = {}) {
    let res;
    try {
      res = await fetch(prefix + path, {
        credentials: "same-origin",
        ...options,
        headers: { Accept: "application/json", ...(options.headers || {}) },
      });
    } catch (e) {
      throw new ApiError(0, `Cannot reach the server (${e.message}). Check that it is running.`);
    }
    if (!res.ok) {
      throw await errorOf(res);
    }
    return res;
  }

  /** The `{"error": ...}` message of a failed answer, or its status line. */
  async function errorOf(res) {
    let message = `${res.status} ${res.statusText}`.trim();
    try {
      const body = await res.json();
      if (body && typeof body.error === "string") {
        message = body.error;
      } else if (body && body.error && typeof body.error.message === "string") {
        message = body.error.message;
      }
    } catch (_) {
      // not JSON: keep the status line
    }
    return new ApiError(res.status, message);
  }

  // ---------------------------------------------------------------------------------------
  // Messages to the person

  function setStatus(text) {
    $("status").textContent = text;
  }

  function showError(text) {
    $("error-text").textContent = text;
    $("error").hidden = false;
  }

  function clearError() {
    $("error").hidden = true;
    $("error-text").textContent = "";
  }

  // ---------------------------------------------------------------------------------------
  // Sign-in state

  /** Reads what sign-in the server offers and whether this browser is signed in. */
  async function start() {
    setStatus("Loading…");
    let caps = null;
    try {
      caps = await (await api("/auth/capabilities")).json();
    } catch (e) {
      // 404 (no such route) or 401 (the route is behind the API's token auth): a server without
      // browser sign-in; the agents request below tells whether the API needs credentials.
      if (e.status !== 404 && e.status !== 401) {
        showError(`Could not read the sign-in options: ${e.message}`);
      }
    }
    const login = caps && caps.login;
    state.login = login && login.type === "sso" && typeof login.url === "string" ? login : null;
    if (caps && caps.enabled && !caps.user) {
      showSignIn(null);
      return;
    }
    showAccount(caps && caps.enabled ? caps.user : null);
    await loadAgents();
  }

  /** The sign-in panel, with `reason` (why the person must sign in) when there is one. */
  function showSignIn(reason) {
    state.signedIn = false;
    $("workspace").hidden = true;
    $("account").hidden = true;
    $("sign-in").hidden = false;
    const button = $("sign-in-button");
    if (state.login) {
      $("sign-in-text").textContent =
        reason || "Sign in to chat with the agents of this server.";
      button.hidden = false;
      button.focus();
    } else {
      $("sign-in-text").textContent =
        (reason ? `${reason} ` : "") +
        "This server needs credentials, and offers no sign-in in the browser: ask its operator " +
        "to turn on browser sign-in, or use the API with a token.";
      button.hidden = true;
    }
    setStatus("Not signed in.");
  }

  function showAccount(user) {
    state.signedIn = Boolean(user);
    $("sign-in").hidden = true;
    $("account").hidden = !user;
    if (user) {
      $("user-name").textContent = user.name || user.email || user.id || "Signed in";
    }
  }

  function signIn() {
    if (!state.login) {
      return;
    }
    const url = new URL(state.login.url, window.location.origin);
    url.searchParams.set("redirect_to", PAGE);
    setStatus("Going to the sign-in page…");
    window.location.assign(url.href);
  }

  async function signOut() {
    clearError();
    const button = $("sign-out");
    button.disabled = true;
    setStatus("Signing out…");
    try {
      const res = await api("/auth/logout", { method: "POST" });
      const body = await res.json().catch(() => ({}));
      if (body && typeof body.redirectTo === "string" && body.redirectTo) {
        window.location.assign(body.redirectTo);
        return;
      }
      resetChat();
      state.agents = [];
      state.agentId = null;
      await start();
      if (!state.signedIn) {
        setStatus("Signed out.");
      }
    } catch (e) {
      showError(`Could not sign out: ${e.message}`);
      setStatus("Still signed in.");
    } finally {
      button.disabled = false;
    }
  }

  /** A 401 from the API: the session is gone (or never was); offer to sign in again. */
  function onUnauthorized(e) {
    const expired = e.message === "Session expired";
    showSignIn(expired ? "Your session has expired: sign in again." : `Not signed in (${e.message}).`);
  }

  // ---------------------------------------------------------------------------------------
  // Agents

  async function loadAgents() {
    setStatus("Loading agents…");
    let body;
    try {
      body = await (await api("/agents")).json();
    } catch (e) {
      if (e.status === 401) {
        onUnauthorized(e);
      } else {
        showError(`Could not load the agents: ${e.message}`);
        setStatus("No agents loaded.");
      }
      return;
    }
    state.agents = Object.entries(body || {}).map(([id, agent]) => ({
      id: (agent && agent.id) || id,
      name: (agent && agent.name) || id,
      description: (agent && agent.description) || "",
    }));
    renderAgents();
    $("workspace").hidden = false;
    if (state.agents.length > 0) {
      selectAgent(state.agents[0].id, false);
      $("message").focus();
    }
    setStatus(
      state.agents.length === 1 ? "1 agent." : `${state.agents.length} agents.`,
    );
  }

  function renderAgents() {
    const list = $("agent-list");
    for (const old of list.querySelectorAll(".agent")) {
      old.remove();
    }
    $("no-agents").hidden = state.agents.length > 0;
    list.hidden = state.agents.length === 0;
    for (const agent of state.agents) {
      const label = document.createElement("label");
      label.className = "agent";
      const input = document.createElement("input");
      input.type = "radio";
      input.name = "agent";
      input.value = agent.id;
      input.addEventListener("change", () => selectAgent(agent.id, true));
      const text = document.createElement("span");
      text.className = "agent-text";
      const name = document.createElement("span");
      name.className = "agent-name";
      name.textContent = agent.name;
      text.append(name);
      if (agent.description) {
        const description = document.createElement("span");
        description.className = "agent-description";
        description.textContent = agent.description;
        text.append(description);
      }
      label.append(input, text);
      list.append(label);
    }
    setComposerEnabled(state.agents.length > 0);
  }

  function selectAgent(id, announce) {
    if (state.agentId === id) {
      return;
    }
    state.agentId = id;
    for (const input of $("agent-list").querySelectorAll('input[name="agent"]')) {
      input.checked = input.value === id;
    }
    const agent = state.agents.find((a) => a.id === id);
    $("chat-title").textContent = agent ? `Chat with ${agent.name}` : "Chat";
    resetChat();
    if (announce && agent) {
      setStatus(`New chat with ${agent.name}.`);
    }
  }

  // ---------------------------------------------------------------------------------------
  // Chat

  function resetChat() {
    state.history = [];
    $("messages").replaceChildren();
  }

  function setComposerEnabled(enabled) {
    $("message").disabled = !enabled;
    $("send").disabled = !enabled || state.busy;
  }

  function setBusy(busy) {
    state.busy = busy;
    $("send").disabled = busy || state.agentId === null;
    $("send").textContent = busy ? "Sending…" : "Send";
  }

  /** Adds a message to the conversation; returns the element its text goes in. */
  function addMessage(role, text) {
    const item = document.createElement("li");
    item.className = `message ${role}`;
    const who = document.createElement("span");
    who.className = "who";
    const agent = state.agents.find((a) => a.id === state.agentId);
    who.textContent = role === "user" ? "You" : (agent && agent.name) || "Agent";
    const body = document.createElement("div");
    body.className = "text";
    body.textContent = text;
    item.append(who, body);
    $("messages").append(item);
    scrollToEnd();
    return body;
  }

  function scrollToEnd() {
    const log = $("messages");
    log.scrollTop = log.scrollHeight;
  }

  async function send(text) {
    if (state.busy || state.agentId === null) {
      return;
    }
    clearError();
    const agentId = state.agentId;
    state.history.push({ role: "user", content: text });
    addMessage("user", text);
    const answer = addMessage("assistant", "");
    const item = answer.parentElement;
    item.setAttribute("aria-busy", "true");
    setBusy(true);
    setStatus("The agent is answering…");
    try {
      const res = await api(`/agents/${encodeURIComponent(agentId)}/stream`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
        body: JSON.stringify({ messages: state.history }),
      });
      const full = await readStream(res, {
        text(delta) {
          answer.textContent += delta;
          scrollToEnd();
        },
        note(note) {
          const line = document.createElement("span");
          line.className = "note";
          line.textContent = note;
          item.insertBefore(line, answer);
        },
      });
      if (state.agentId === agentId) {
        state.history.push({ role: "assistant", content: full });
      }
      setStatus("Answer complete.");
    } catch (e) {
      // The question stays on screen and the answer is marked failed; the question is not sent
      // again with the next message.
      state.history.pop();
      item.classList.add("failed");
      answer.textContent = answer.textContent || "No answer.";
      if (e.status === 401) {
        onUnauthorized(e);
      } else {
        showError(`The agent could not answer: ${e.message}`);
        setStatus("The answer failed.");
      }
    } finally {
      item.removeAttribute("aria-busy");
      setBusy(false);
    }
  }

  /**
   * Reads Mastra's stream (`data: <chunk JSON>` server-sent events, ending with
   * `data: [DONE]`), calling `on.text` for each text delta and `on.note` for tool calls.
   * Returns the whole text; throws on an `error` chunk or a stream cut short.
   */
  async function readStream(res, on) {
    if (!res.body || !res.body.getReader) {
      throw new Error("this browser cannot read streamed answers");
    }
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    let text = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) {
          throw new Error("the stream ended before the agent finished");
        }
        buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const event = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const data = event
            .split("\n")
            .filter((line) => line.startsWith("data:"))
            .map((line) => line.slice(5).replace(/^ /, ""))
            .join("\n");
          if (data === "") {
            continue;
          }
          if (data === "[DONE]") {
            return text;
          }
          let chunk;
          try {
            chunk = JSON.parse(data);
          } catch (_) {
            throw new Error("the server sent a stream event that is not JSON");
          }
          const payload = chunk.payload || {};
          switch (chunk.type) {
            case "text-delta":
              if (typeof payload.text === "string") {
                text += payload.text;
                on.text(payload.text);
              }
              break;
            case "tool-call":
              on.note(`Used the tool ${payload.toolName || "(unnamed)"}.`);
              break;
            case "error":
              throw new Error(
                (payload.error && payload.error.message) || "the agent failed without a message",
              );
            default:
              break;
          }
        }
      }
    } finally {
      reader.cancel().catch(() => {});
    }
  }

  // ---------------------------------------------------------------------------------------
  // Wiring

  function onSubmit(event) {
    event.preventDefault();
    const box = $("message");
    const text = box.value.trim();
    if (text === "") {
      box.focus();
      return;
    }
    box.value = "";
    send(text).finally(() => box.focus());
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("sign-in-button").addEventListener("click", signIn);
    $("sign-out").addEventListener("click", signOut);
    $("error-dismiss").addEventListener("click", clearError);
    $("new-chat").addEventListener("click", () => {
      resetChat();
      setStatus("New chat.");
      $("message").focus();
    });
    $("composer").addEventListener("submit", onSubmit);
    $("message").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        $("composer").requestSubmit();
      }
    });
    start().catch((e) => showError(`The page failed to start: ${e.message}`));
  });
})();
