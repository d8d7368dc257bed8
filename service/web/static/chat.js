// faqstream web chat: streams answers from POST /v1/answers (Server-Sent Events read with fetch and
// a ReadableStream), shows citations as footnotes with the quoted passage and a handoff notice, and
// keeps the conversation id in sessionStorage. After a handoff that gives the conversation to a
// person (done.with_agent) it listens on GET /v1/conversations/{id}/events (read with fetch, like
// the answers: EventSource cannot send the API key) and shows the agents' replies as from a person,
// until the conversation is handed back. Text from the service is only ever set as text
// (never as HTML). The reply language is the service's: it detects it, and the browser's
// Accept-Language is its hint for messages too short to tell.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const log = $("log"), form = $("ask"), question = $("question"), send = $("send");
  const alertBox = $("alert"), keyRow = $("keyrow"), keyInput = $("key"), who = $("who");
  // The tab's sessionStorage; an embedding iframe may be denied storage (third-party storage
  // blocked): the conversation then lives as long as the frame.
  const store = (() => {
    try {
      window.sessionStorage.getItem(".");
      return window.sessionStorage;
    } catch {
      const memory = new Map();
      return {
        getItem: (name) => (memory.has(name) ? memory.get(name) : null),
        setItem: (name, value) => memory.set(name, String(value)),
        removeItem: (name) => memory.delete(name),
      };
    }
  })();
  const CONV = "faqstream.conversation", KEY = "faqstream.key", HANDED = "faqstream.handoff";
  const SEEN = "faqstream.agentSeen"; // the last agent message shown (the events stream resumes after it)
  const RECONNECT_MS = 3000;
  const timings = (window.faqstreamTimings = { answers: [] });
  let handedOff = store.getItem(HANDED) === "1";
  let count = 0;
  let listening = null; // the AbortController of the open events stream

  // A key passed by the embedding page (widget.js: #key=…) stays in this tab only.
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get("key")) {
    store.setItem(KEY, fragment.get("key"));
    history.replaceState(null, "", location.pathname + location.search);
  }

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function speaker() {
    return handedOff ? "Automated message (not your support agent)" : "Virtual assistant";
  }

  function showHandoff() {
    who.textContent = "A colleague from our team takes over this conversation";
    who.classList.add("handed");
  }
  if (handedOff) showHandoff();

  // Keep the newest text in view while it streams.
  function follow() {
    log.scrollTop = log.scrollHeight;
  }

  function bubble(kind, label) {
    const item = el("article", { class: `msg ${kind}`, id: `m${++count}` });
    item.append(el("span", { class: "from" }, label), el("div", { class: "text" }));
    log.append(item);
    follow();
    return item;
  }

  // The answer's text with each [n] turned into a link to its footnote.
  function renderCited(target, text, citations, id) {
    const known = new Set(citations.map((c) => c.index));
    target.replaceChildren();
    let last = 0;
    for (const match of text.matchAll(/\[(\d{1,3})\]/g)) {
      const n = Number(match[1]);
      if (!known.has(n)) continue;
      target.append(text.slice(last, match.index));
      const sup = el("sup", { class: "cite" });
      sup.append(el("a", { href: `#${id}-src-${n}`, "aria-label": `source ${n}` }, `[${n}]`));
      target.append(sup);
      last = match.index + match[0].length;
    }
    target.append(text.slice(last));
  }

  function footnotes(item, text, citations) {
    const cited = new Set([...text.matchAll(/\[(\d{1,3})\]/g)].map((m) => Number(m[1])));
    const shown = citations.filter((c) => cited.has(c.index));
    if (!shown.length) return;
    const list = el("ol", { class: "sources", "aria-label": "Sources" });
    for (const c of shown) {
      const li = el("li", { id: `${item.id}-src-${c.index}`, value: String(c.index) });
      li.append(el("strong", {}, c.title));
      if (c.section && c.section !== c.title) li.append(` — ${c.section}`);
      li.append(el("blockquote", {}, c.quote));
      list.append(li);
    }
    item.append(list);
  }

  function handoffNotice(item) {
    const note = el("p", { class: "handoff", role: "status" },
      "We are passing this conversation to a colleague from our support team. They will reply here or by your usual contact channel; the answers above were automated.");
    item.after(note);
  }

  function authHeaders(extra) {
    const headers = { ...extra };
    const key = store.getItem(KEY);
    if (key) headers.Authorization = `Bearer ${key}`;
    return headers;
  }

  function showAgentMessage(data) {
    const label = data.author ? `${data.author} (support team)` : "Support team";
    const item = bubble("agent", label);
    item.querySelector(".text").textContent = data.text;
    if (data.language) item.lang = data.language;
    store.setItem(SEEN, data.message_id);
    follow();
  }

  function handedBack() {
    handedOff = false;
    store.removeItem(HANDED);
    who.textContent = "Virtual assistant — answers come from our help articles";
    who.classList.remove("handed");
    log.append(el("p", { class: "handoff back", role: "status" },
      "Our support team has handed this conversation back to the virtual assistant."));
    follow();
  }

  function onConversationEvent(name, data) {
    if (name === "agent_message") {
      showAgentMessage(data);
    } else if (name === "state" && data.state === "bot" && handedOff) {
      handedBack();
      stopListening();
    } else if (name === "state" && data.state === "agent" && !handedOff) {
      handedOff = true;
      store.setItem(HANDED, "1");
      showHandoff();
    }
  }

  function stopListening() {
    if (listening) listening.abort();
    listening = null;
  }

  // The agents' replies, live; reconnects (resuming after the last shown one) while handed off.
  function listenForAgents() {
    const conversation = store.getItem(CONV);
    if (!conversation || listening) return;
    const controller = new AbortController();
    listening = controller;
    const seen = store.getItem(SEEN);
    const url = `/v1/conversations/${encodeURIComponent(conversation)}/events` +
      (seen ? `?after=${encodeURIComponent(seen)}` : "");
    let retry = true;
    fetch(url, { headers: authHeaders({ Accept: "text/event-stream" }), signal: controller.signal })
      .then((response) => {
        if (!response.ok) {
          retry = response.status >= 500; // 404: the conversation expired; 401/403: no use trying
          return null;
        }
        return readEvents(response, onConversationEvent);
      })
      .catch(() => {})
      .finally(() => {
        if (listening !== controller) return; // stopped, or replaced
        listening = null;
        if (retry && handedOff && !controller.signal.aborted) setTimeout(listenForAgents, RECONNECT_MS);
      });
  }

  function fail(message) {
    alertBox.textContent = message;
    alertBox.hidden = false;
  }

  async function readEvents(response, onEvent) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let name = "message", data = "";
        for (const line of frame.split("\n")) {
          if (line.startsWith("event:")) name = line.slice(6).trim();
          else if (line.startsWith("data:")) data += line.slice(5).trimStart();
        }
        if (data) onEvent(name, JSON.parse(data));
      }
    }
  }

  async function ask(text) {
    const timing = { submitted: performance.now() };
    timings.answers.push(timing);
    alertBox.hidden = true;
    bubble("user", "You").querySelector(".text").textContent = text;
    const item = bubble("bot", speaker());
    const body = item.querySelector(".text");
    item.setAttribute("aria-busy", "true");
    const headers = authHeaders({ "Content-Type": "application/json", Accept: "text/event-stream" });
    const payload = { question: text, stream: true };
    const conversation = store.getItem(CONV);
    if (conversation) payload.conversation_id = conversation;
    let meta = null, answer = "";
    try {
      const response = await fetch("/v1/answers", { method: "POST", headers, body: JSON.stringify(payload) });
      if (!response.ok) {
        const error = await response.json().catch(() => ({ error: { message: response.statusText } }));
        item.remove();
        if (response.status === 401) {
          keyRow.hidden = false;
          question.value = text; // kept: enter the key and send again
          fail("This service needs an API key: enter it above and send again.");
          return "key";
        } else {
          fail(error.error?.message || `The service answered ${response.status}.`);
        }
        return false;
      }
      await readEvents(response, (name, data) => {
        if (name === "meta") {
          meta = data;
          store.setItem(CONV, data.conversation_id);
          item.lang = data.language;
        } else if (name === "delta") {
          if (!answer) timing.firstChar = performance.now();
          answer += data.text;
          body.append(data.text);
          follow();
        } else if (name === "done") {
          const handoff = data.handoff || meta.handoff;
          renderCited(body, answer, meta.citations, item.id);
          footnotes(item, answer, meta.citations);
          if (handoff && !handedOff) {
            handedOff = true;
            store.setItem(HANDED, "1");
            handoffNotice(item);
            showHandoff();
          }
          if (data.with_agent) {
            if (!handedOff) {
              handedOff = true;
              store.setItem(HANDED, "1");
              showHandoff();
            }
            listenForAgents();
          }
          follow();
          timing.done = performance.now();
        } else if (name === "error") {
          fail(`The answer broke off: ${data.message}`);
        }
      });
    } catch (error) {
      fail(`Could not reach the service (${error.message}). Please try again.`);
    } finally {
      item.setAttribute("aria-busy", "false");
    }
    return true;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = question.value.trim();
    if (!text) return;
    if (!keyRow.hidden && keyInput.value.trim()) store.setItem(KEY, keyInput.value.trim());
    send.disabled = true;
    question.value = "";
    let outcome = null;
    try {
      outcome = await ask(text);
    } finally {
      send.disabled = false;
      (outcome === "key" ? keyInput : question).focus();
    }
  });

  question.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  form.dataset.ready = "true"; // handlers attached (tests wait for it)
  if (handedOff) listenForAgents(); // a reload while a person has the conversation

  $("restart").addEventListener("click", () => {
    stopListening();
    for (const name of [CONV, HANDED, SEEN]) store.removeItem(name);
    handedOff = false;
    who.textContent = "Virtual assistant — answers come from our help articles";
    who.classList.remove("handed");
    log.replaceChildren(el("p", { class: "hint" }, "New conversation. Ask anything about our policies."));
    question.focus();
  });
})();
