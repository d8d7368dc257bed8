// faqstream web chat: streams answers from POST /v1/answers (Server-Sent Events read with fetch and
// a ReadableStream), shows citations as footnotes with the quoted passage and a handoff notice, and
// keeps the conversation id in sessionStorage. After a handoff that gives the conversation to a
// person (done.with_agent) it listens on GET /v1/conversations/{id}/events (read with fetch, like
// the answers: EventSource cannot send the API key) and shows the agents' replies as from a person,
// until the conversation is handed back. Under each completed reply, thumbs up / down buttons send
// POST /v1/feedback (a thumbs down offers an optional comment, sent as a second feedback); on a
// reload the transcript comes back from GET /v1/conversations/{id}. The replies and the agents'
// messages are Markdown, shown through markdown.js (a safe subset, re-rendered as a reply streams);
// every other text from the service is only ever set as text. The reply language is the service's:
// it detects it, and the browser's Accept-Language is its hint (the answer for a message too short
// to tell; a prior the detector must outweigh for a longer first message).
// The page's own texts come from the service (service/web/texts.yaml, with the operator's
// WEB_CHAT_TITLE / WEB_CHAT_INTRO): rendered into the page for its Accept-Language and kept as JSON
// in #texts; the page switches to the browser's first language it has (navigator.languages) and
// then to each reply's language (meta.language), fetching /web-chat/texts. Every element showing a
// fixed text names its key (data-text, data-label, data-placeholder, with {arguments} in its
// data-* attributes), so a switch re-labels the whole page, the messages already shown included.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const markdown = window.faqstreamMarkdown;
  const { render, MARKER } = markdown;
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
  const COMMENT_MAX = 2000; // POST /v1/feedback: comment at most 2000 characters (COMMENT_MAX_CHARS)
  const SVG = "http://www.w3.org/2000/svg";
  // Material Design "thumb up" icon (Apache-2.0); the thumbs-down button shows it turned over.
  const THUMB = "M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 " +
    "7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z";

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

  // The page's texts: its language's (T), each key's text with its {arguments} filled in.
  const boot = JSON.parse($("texts").textContent);
  const LANGUAGES = boot.languages;
  let T = boot.texts, language = boot.language, switching = 0;
  const t = (key, args) => (T[key] ?? key).replace(/\{(\w+)\}/g, (all, name) => args?.[name] ?? all);

  // `node` shows the text `key` (with `args`), and shows it again in the next language.
  function say(node, key, args) {
    Object.assign(node.dataset, args, { text: key });
    node.textContent = t(key, node.dataset);
    return node;
  }
  // Likewise for its accessible name (aria-label).
  function labelled(node, key, args) {
    Object.assign(node.dataset, args, { label: key });
    node.setAttribute("aria-label", t(key, node.dataset));
    return node;
  }
  markdown.label = (node, key, args) => labelled(node, key, args); // the footnote links' "source n"

  function applyTexts() {
    const root = document.documentElement;
    root.lang = language;
    root.dir = boot.dir;
    document.title = T.title;
    for (const node of document.querySelectorAll("[data-text]")) node.textContent = t(node.dataset.text, node.dataset);
    for (const node of document.querySelectorAll("[data-label]")) {
      const text = t(node.dataset.label, node.dataset);
      node.setAttribute("aria-label", text);
      if (node.hasAttribute("title")) node.title = text;
    }
    for (const node of document.querySelectorAll("[data-placeholder]")) node.placeholder = t(node.dataset.placeholder);
  }

  // The page in the first of `wanted` (language codes, most preferred first) it has texts for.
  async function switchLanguage(wanted) {
    const next = wanted.map((tag) => String(tag).toLowerCase().split(/[-_]/)[0]).find((l) => LANGUAGES.includes(l));
    if (!next) return;
    const mine = ++switching; // a switch still in flight is overtaken, even by the current language
    if (next === language) return;
    try {
      const response = await fetch(`/web-chat/texts?lang=${encodeURIComponent(next)}`);
      if (!response.ok) return;
      const bundle = await response.json();
      if (mine !== switching) return; // a later switch won
      ({ texts: T, language } = bundle);
      boot.dir = bundle.dir;
      applyTexts();
    } catch {
      // the page keeps its language
    }
  }

  function speaker(label) {
    return say(label, handedOff ? "automated" : "assistant");
  }

  function showHandoff() {
    say(who, "tagline_handed");
    who.classList.add("handed");
  }
  if (handedOff) showHandoff();

  // Keep the newest text in view while it streams.
  function follow() {
    log.scrollTop = log.scrollHeight;
  }

  // A message: `label(from)` writes who it is from.
  function bubble(kind, label) {
    const item = el("article", { class: `msg ${kind}`, id: `m${++count}` });
    const from = el("span", { class: "from" });
    label(from);
    // dir="auto": an Arabic or Hebrew message reads right to left in any page language.
    item.append(from, el("div", { class: "text", dir: "auto" }));
    log.append(item);
    follow();
    return item;
  }

  function footnotes(item, text, citations) {
    const cited = new Set([...text.matchAll(MARKER)].map((m) => Number(m[1])));
    const shown = citations.filter((c) => cited.has(c.index));
    if (!shown.length) return;
    const list = labelled(el("ol", { class: "sources" }), "sources");
    for (const c of shown) {
      const li = el("li", { id: `${item.id}-src-${c.index}`, value: String(c.index) });
      li.append(el("strong", {}, c.title));
      if (c.section && c.section !== c.title) li.append(` — ${c.section}`);
      // The passage is the document's text, Markdown like the reply (a heading reads **Heading**):
      // shown through the same safe renderer, its own [n] left as written.
      const quote = el("blockquote", { dir: "auto" }); // a passage in its own script direction
      render(quote, c.quote, [], li.id);
      li.append(quote);
      list.append(li);
    }
    item.append(list);
  }

  function handoffNotice(item) {
    item.after(say(el("p", { class: "handoff", role: "status" }), "handoff"));
  }

  function authHeaders(extra) {
    const headers = { ...extra };
    const key = store.getItem(KEY);
    if (key) headers.Authorization = `Bearer ${key}`;
    return headers;
  }

  function showAgentMessage(data) {
    const item = bubble("agent", (from) => (data.author ? say(from, "agent", { author: data.author }) : say(from, "support_team")));
    render(item.querySelector(".text"), data.text, [], item.id);
    if (data.language) item.lang = data.language;
    store.setItem(SEEN, data.message_id);
    follow();
  }

  // The assistant's notice when a handoff did not go as the customer was told (a lapsed takeover,
  // a handoff that reached no one), shown once; ``before``: the reply it comes with.
  function showNotice(data, before) {
    if (log.querySelector(`[data-message="${CSS.escape(data.message_id)}"]`)) return;
    const item = bubble("bot", (from) => say(from, "assistant"));
    item.dataset.message = data.message_id;
    render(item.querySelector(".text"), data.text, [], item.id);
    if (data.language) item.lang = data.language;
    if (before) log.insertBefore(item, before);
  }

  function handedBack(notice) {
    handedOff = false;
    store.removeItem(HANDED);
    say(who, "tagline");
    who.classList.remove("handed");
    if (notice) {
      showNotice(notice);
    } else {
      log.append(say(el("p", { class: "handoff back", role: "status" }), "handed_back"));
    }
    follow();
  }

  function onConversationEvent(name, data) {
    if (name === "agent_message") {
      showAgentMessage(data);
    } else if (name === "notice") {
      showNotice(data);
    } else if (name === "state" && data.state === "bot" && handedOff) {
      handedBack(data.message);
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

  async function sendFeedback(conversation, messageId, thumbs, comment) {
    const payload = { conversation_id: conversation, message_id: messageId, thumbs };
    if (comment) payload.comment = comment;
    const response = await fetch("/v1/feedback", {
      method: "POST",
      headers: authHeaders({ "Content-Type": "application/json" }),
      body: JSON.stringify(payload),
    });
    if (!response.ok) {
      const error = await response.json().catch(() => ({}));
      throw new Error(error.error?.message || `status ${response.status}`);
    }
  }

  function thumbButton(direction) {
    const button = labelled(el("button", { type: "button", class: `thumb ${direction}`, "aria-pressed": "false" }), direction);
    button.title = t(direction);
    const icon = document.createElementNS(SVG, "svg");
    icon.setAttribute("viewBox", "0 0 24 24");
    icon.setAttribute("aria-hidden", "true");
    icon.setAttribute("focusable", "false");
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", THUMB);
    icon.append(path);
    button.append(icon);
    return button;
  }

  // Thumbs up / down under a reply (and, after a thumbs down, an optional comment). While a
  // feedback is on its way the controls are aria-disabled, not disabled: keyboard focus stays put.
  function feedbackControls(item, conversation, messageId, given) {
    const box = el("div", { class: "feedback", role: "group", "aria-labelledby": `${item.id}-fb` });
    const up = thumbButton("up"), down = thumbButton("down");
    const status = el("p", { class: "fb-status", role: "status" });
    const commentId = `${item.id}-comment`;
    const form = el("form", { class: "fb-comment", hidden: "" });
    const field = el("textarea", {
      id: commentId, rows: "2", maxlength: String(COMMENT_MAX), "aria-describedby": "sendhint",
    });
    const submit = say(el("button", { type: "submit", class: "fb-send" }), "comment_send");
    form.append(say(el("label", { for: commentId }), "comment_label"), field, submit);
    box.append(say(el("span", { class: "fb-ask", id: `${item.id}-fb` }), "helpful"), up, down, status, form);
    let busy = false;

    function setBusy(value) {
      busy = value;
      for (const control of [up, down, submit]) control.setAttribute("aria-disabled", String(value));
    }
    function pressed(thumbs) {
      up.setAttribute("aria-pressed", String(thumbs === "up"));
      down.setAttribute("aria-pressed", String(thumbs === "down"));
    }
    function tell(key, args, error) {
      if (key) {
        say(status, key, args);
      } else {
        delete status.dataset.text; // nothing to say again in another language
        status.textContent = "";
      }
      status.classList.toggle("error", Boolean(error));
    }
    async function give(thumbs, comment) {
      if (busy) return false;
      setBusy(true);
      tell(null);
      try {
        await sendFeedback(conversation, messageId, thumbs, comment);
        return true;
      } catch (error) {
        tell("feedback_failed", { reason: error.message }, true);
        return false;
      } finally {
        setBusy(false);
      }
    }
    for (const [button, thumbs] of [[up, "up"], [down, "down"]]) {
      button.addEventListener("click", async () => {
        if (button.getAttribute("aria-pressed") === "true" || !(await give(thumbs))) return;
        pressed(thumbs);
        form.hidden = thumbs !== "down";
        tell("thanks");
      });
    }
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const comment = field.value.trim();
      if (!comment || !(await give("down", comment))) return;
      form.hidden = true;
      field.value = "";
      tell("thanks_comment");
      down.focus(); // the field is gone: focus stays in the feedback group
    });
    enterSends(field, form);
    if (given) pressed(given);
    item.append(box);
  }

  // Enter in a text field sends its form; Shift+Enter starts a new line.
  function enterSends(field, owner) {
    field.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        owner.requestSubmit();
      }
    });
  }

  function fail(key, args) {
    say(alertBox, key, args);
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

  // A question the service did not take (refused, or never reached it) is not left in the log as
  // asked: it goes back into the question field to send again — or, when something new was typed
  // there meanwhile, stays in the log marked "not sent".
  function notSent(asked, item, text) {
    item.remove();
    if (!question.value.trim()) {
      asked.remove();
      question.value = text;
    } else {
      asked.classList.add("unsent");
      asked.querySelector(".from").after(say(el("span", { class: "unsent-note" }), "not_sent"));
    }
  }

  async function ask(text) {
    const timing = { submitted: performance.now() };
    timings.answers.push(timing);
    alertBox.hidden = true;
    const asked = bubble("user", (from) => say(from, "you"));
    asked.querySelector(".text").textContent = text;
    const item = bubble("bot", speaker);
    const body = item.querySelector(".text");
    item.setAttribute("aria-busy", "true");
    const headers = authHeaders({ "Content-Type": "application/json", Accept: "text/event-stream" });
    const payload = { question: text, stream: true };
    const conversation = store.getItem(CONV);
    if (conversation) payload.conversation_id = conversation;
    let meta = null, answer = "";
    // The reply so far, rendered at most once a frame however fast the deltas come.
    let frame = 0;
    const draw = () => {
      frame = 0;
      render(body, answer, meta ? meta.citations : [], item.id);
      follow();
    };
    let response = null;
    try {
      response = await fetch("/v1/answers", { method: "POST", headers, body: JSON.stringify(payload) });
      if (!response.ok) {
        const error = await response.json().catch(() => ({ error: { message: response.statusText } }));
        notSent(asked, item, text);
        if (response.status === 401) {
          keyRow.hidden = false;
          fail("need_key"); // the question is back in its field: enter the key and send again
          return "key";
        } else if (error.error?.message) {
          fail("failed_status", { status: `${response.status}: ${error.error.message}` });
        } else {
          fail("failed_status", { status: response.status });
        }
        return false;
      }
      await readEvents(response, (name, data) => {
        if (name === "meta") {
          meta = data;
          store.setItem(CONV, data.conversation_id);
          item.lang = data.language;
          for (const notice of data.notices || []) showNotice(notice, item);
          switchLanguage([data.language]); // the page follows the language the customer writes in
        } else if (name === "delta") {
          if (!answer) timing.firstChar = performance.now();
          answer += data.text;
          if (!frame) frame = requestAnimationFrame(draw);
        } else if (name === "done") {
          cancelAnimationFrame(frame);
          draw();
          footnotes(item, answer, meta.citations);
          if (meta.mode !== "agent") feedbackControls(item, meta.conversation_id, meta.message_id);
          // Only a handoff that gave the conversation to a person (done.with_agent) is announced as
          // one: any other handoff's reply already says what happens (the team was told, or whom to
          // contact) and the assistant keeps the conversation.
          if (data.with_agent) {
            if (!handedOff) {
              handedOff = true;
              store.setItem(HANDED, "1");
              if (meta.mode !== "agent") handoffNotice(item);
              showHandoff();
            }
            listenForAgents();
          }
          follow();
          timing.done = performance.now();
        } else if (name === "error") {
          fail("broke_off", { reason: data.message });
        }
      });
    } catch (error) {
      if (!response) notSent(asked, item, text);
      fail("unreachable", { reason: error.message });
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

  enterSends(question, form);

  // A reload: the transcript comes back from the conversation's record (the page stays as it is
  // when the service keeps no records, no longer holds the conversation, or a question was sent).
  async function restore() {
    const conversation = store.getItem(CONV);
    if (!conversation) return;
    const url = `/v1/conversations/${encodeURIComponent(conversation)}`;
    const response = await fetch(url, { headers: authHeaders({ Accept: "application/json" }) });
    if (!response.ok) return;
    const record = await response.json();
    if (!record.messages.length || log.querySelector(".msg")) return;
    log.replaceChildren();
    let handedAt = null; // the last reply with a handoff: the one that gave it to a person, if any
    let replied = null; // the language of the latest reply: the page's again
    for (const m of record.messages) {
      if (m.role === "customer") {
        bubble("user", (from) => say(from, "you")).querySelector(".text").textContent = m.text;
      } else if (m.role === "agent") {
        showAgentMessage(m);
      } else {
        const item = bubble("bot", (from) => say(from, "assistant")); // (the record holds no passed-on notices)
        replied = m.language || replied;
        item.dataset.message = m.message_id;
        if (m.language) item.lang = m.language;
        render(item.querySelector(".text"), m.text, m.citations, item.id);
        footnotes(item, m.text, m.citations);
        if (m.status === "complete" && m.mode !== "notice") {
          feedbackControls(item, record.conversation_id, m.message_id, m.feedback?.thumbs);
        }
        if (m.handoff_reason) handedAt = item;
      }
    }
    if (handedOff && handedAt) handoffNotice(handedAt);
    if (replied) switchLanguage([replied]);
    follow();
  }

  form.dataset.ready = "true"; // handlers attached (tests wait for it)
  switchLanguage([...(navigator.languages || [navigator.language]), "en"]);
  restore()
    .catch(() => {}) // the page works without its history
    .finally(() => {
      log.dataset.restored = "true"; // (tests wait for it)
      // A reload while a person has the conversation: after the restore (which shows the agents'
      // replies so far and remembers the last), so the stream resumes after it.
      if (handedOff) listenForAgents();
    });

  $("restart").addEventListener("click", () => {
    stopListening();
    for (const name of [CONV, HANDED, SEEN]) store.removeItem(name);
    handedOff = false;
    say(who, "tagline");
    who.classList.remove("handed");
    log.replaceChildren(say(el("p", { class: "hint" }), "intro"));
    question.focus();
  });
})();
