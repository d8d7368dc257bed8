// faqstream web chat: a message's Markdown shown as safe DOM. The text is untrusted (a reply can
// repeat what a document says), so: marked (vendor/marked.umd.js) parses it, with raw HTML kept as
// text (never markup), headings as bold paragraphs (the page's own headings stay its outline) and
// images as their alt text (an image would be fetched: a tracking pixel in a document); DOMPurify
// (vendor/purify.min.js) then keeps only the tags below, and links only to http(s) and mailto
// (opened in a new tab, no opener, no referrer); a link to anything else keeps only its text. Each
// [n] that names one of the reply's citations becomes a link to its footnote (labelled through
// `label`, which the page replaces with its own texts). The result is patched
// into the page: the nodes that did not change stay, so a streamed reply re-rendered as it grows
// keeps a selection in it and only its new text is new.
"use strict";
window.faqstreamMarkdown = (() => {
  const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  const escape = (text) => text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
  const markdown = new marked.Marked({
    gfm: true,
    breaks: true, // a line break in a chat message is one
    renderer: {
      html: ({ text, block }) => (block ? `<p>${escape(text.trim()).replace(/\n/g, "<br>")}</p>\n` : escape(text)),
      heading({ tokens }) {
        return `<p><strong>${this.parser.parseInline(tokens)}</strong></p>\n`;
      },
      image: ({ text }) => escape(text),
    },
  });
  const SAFE = {
    ALLOWED_TAGS: ["p", "br", "strong", "em", "del", "ul", "ol", "li", "code", "pre", "blockquote", "hr", "a",
      "table", "thead", "tbody", "tr", "th", "td"],
    ALLOWED_ATTR: ["href", "title", "start"],
    ADD_URI_SAFE_ATTR: ["start"], // a number, not a URI (the scheme rule below is for URIs only)
    ALLOWED_URI_REGEXP: /^(?:https?|mailto):/i,
    RETURN_DOM_FRAGMENT: true,
  };
  const MARKER = /\[(\d{1,3})\]/g; // service/answers/cited.py

  // Each known [n] in the text outside links and code, as a superscript link to its footnote.
  function cite(root, citations, id) {
    const known = new Set(citations.map((c) => c.index));
    if (!known.size) return;
    const texts = [];
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.parentElement?.closest("a, code, pre")) texts.push(node);
    }
    for (const node of texts) {
      const parts = [];
      let last = 0;
      for (const match of node.data.matchAll(MARKER)) {
        const n = Number(match[1]);
        if (!known.has(n)) continue;
        const sup = document.createElement("sup"), link = document.createElement("a");
        sup.className = "cite";
        link.href = `#${id}-src-${n}`;
        api.label(link, "source", { n }); // "source n", in the page's language
        link.textContent = `[${n}]`;
        sup.append(link);
        parts.push(node.data.slice(last, match.index), sup);
        last = match.index + match[0].length;
      }
      if (parts.length) node.replaceWith(...[...parts, node.data.slice(last)].filter((part) => part !== ""));
    }
  }

  function sameAttributes(into, from) {
    for (const { name } of [...into.attributes]) if (!from.hasAttribute(name)) into.removeAttribute(name);
    for (const { name, value } of from.attributes) if (into.getAttribute(name) !== value) into.setAttribute(name, value);
  }

  // `into`'s children made like `from`'s, keeping every node that can stay.
  function patch(into, from) {
    const had = [...into.childNodes], wanted = [...from.childNodes];
    wanted.forEach((node, i) => {
      const old = had[i];
      if (!old) {
        into.append(node);
      } else if (old.nodeType === Node.TEXT_NODE && node.nodeType === Node.TEXT_NODE) {
        if (old.data !== node.data) old.data = node.data;
      } else if (old.nodeType === Node.ELEMENT_NODE && old.nodeName === node.nodeName) {
        sameAttributes(old, node);
        patch(old, node);
      } else {
        old.replaceWith(node);
      }
    });
    for (const old of had.slice(wanted.length)) old.remove();
  }

  // `text` (Markdown) into `target`; `citations` (meta.citations, may be empty) and `id` (the
  // message's element id) make its [n] footnote links.
  function render(target, text, citations, id) {
    if (!DOMPurify.isSupported) {
      target.textContent = text; // a browser DOMPurify cannot protect gets the text as it is
      return;
    }
    const safe = DOMPurify.sanitize(markdown.parse(text).trim(), SAFE);
    for (const link of safe.querySelectorAll("a")) {
      if (!link.hasAttribute("href")) {
        link.replaceWith(...link.childNodes); // javascript:, data:, relative …: its text only
        continue;
      }
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      link.setAttribute("aria-describedby", "newtab"); // "opens in a new tab" (index.html)
    }
    cite(safe, citations || [], id);
    patch(target, safe);
  }

  // `label(node, key, args)`: names `node` (chat.js sets it: the page's texts, in its language).
  const api = { render, MARKER, label: (node, key, { n }) => node.setAttribute("aria-label", `source ${n}`) };
  return api;
})();
