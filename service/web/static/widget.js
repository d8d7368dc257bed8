// faqstream widget: one <script> tag adds a "Help" button that opens the web chat of the service
// this file came from, in an iframe (so the chat talks to its own origin: no CORS needed).
//   <script src="https://help.example.com/widget.js" data-api-key="…" data-label="Help" async></script>
// data-api-key: only when the service requires keys (a key anyone loading the page can read: give
// the widget its own key, with its own rate limits and budget).
"use strict";
(() => {
  const script = document.currentScript;
  if (!script) return;
  const origin = new URL(script.src).origin;
  const key = script.dataset.apiKey;
  const label = script.dataset.label || "Help";
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = label;
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-controls", "faqstream-chat");
  button.style.cssText = "position:fixed;right:1rem;bottom:1rem;z-index:2147483646;padding:.75rem 1.25rem;" +
    "border:0;border-radius:2rem;background:#0b57d0;color:#fff;font:600 16px system-ui,sans-serif;cursor:pointer";
  const frame = document.createElement("iframe");
  frame.id = "faqstream-chat";
  frame.title = `${label}: chat with our virtual assistant`;
  frame.hidden = true;
  frame.style.cssText = "position:fixed;right:1rem;bottom:4.5rem;z-index:2147483647;width:min(24rem,calc(100vw - 2rem));" +
    "height:min(36rem,calc(100vh - 6rem));border:1px solid #74777f;border-radius:.75rem;background:#fff;" +
    "box-shadow:0 8px 24px rgba(0,0,0,.2)";
  function toggle(open) {
    if (open && !frame.src) frame.src = `${origin}/${key ? `#key=${encodeURIComponent(key)}` : ""}`;
    frame.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    if (open) frame.focus();
    else button.focus();
  }
  button.addEventListener("click", () => toggle(frame.hidden));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !frame.hidden) toggle(false);
  });
  const mount = () => document.body.append(frame, button);
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount); // the tag sits in <head>
})();
