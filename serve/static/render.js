// Model output and messages are untrusted. A reply is Markdown: raw HTML in it is shown as
// text (marked's html renderer escapes it), links other than http(s)/mailto/relative are shown
// as their text, images become links, and DOMPurify sanitises what marked made (a second
// wall, with the page's Content-Security-Policy a third). A person's message is plain text.
const marked = window.marked;  // marked.umd.js
const SAFE_URL = /^(https?:|mailto:|#|\/(?!\/)|\.\.?\/)/i;

function escape(text) {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function safe(href) {
  return typeof href === "string" && SAFE_URL.test(href.trim());
}

marked.use({
  gfm: true,
  renderer: {
    html(token) { return escape(token.text); },
    link(token) {
      if (!safe(token.href)) return escape(token.raw);
      const title = token.title ? ` title="${escape(token.title)}"` : "";
      const text = this.parser.parseInline(token.tokens);
      return `<a href="${escape(token.href)}"${title} rel="noopener noreferrer nofollow" target="_blank">${text}</a>`;
    },
    image(token) {
      if (!safe(token.href)) return escape(token.raw);
      return `<a href="${escape(token.href)}" rel="noopener noreferrer nofollow" target="_blank">image: ${escape(token.text || token.href)}</a>`;
    },
  },
});

const PURIFY = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: ["style", "img", "svg", "math", "form", "input", "button", "textarea", "select", "iframe"],
  FORBID_ATTR: ["style", "id", "class"],
  ALLOWED_URI_REGEXP: /^(?:https?:|mailto:|#|\/(?!\/)|\.\.?\/)/i,
};

// Markdown -> a sanitised fragment, with a Copy button on each code block.
export function markdown(text) {
  const html = DOMPurify.sanitize(marked.parse(text, { async: false }), PURIFY);
  const box = document.createElement("div");
  box.className = "md";
  box.innerHTML = html;
  for (const pre of box.querySelectorAll("pre")) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "copy";
    button.textContent = "Copy";
    button.setAttribute("aria-label", "Copy this code");
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(pre.querySelector("code")?.textContent ?? pre.textContent);
        button.textContent = "Copied";
      } catch { button.textContent = "Copy failed"; }
      setTimeout(() => { button.textContent = "Copy"; }, 1500);
    });
    pre.before(button);
  }
  return box;
}

export function plain(text) {
  const box = document.createElement("div");
  box.className = "plain";
  box.textContent = text;
  return box;
}

const MARKS = { partial: "cut short", interrupted: "stopped", failed: "failed" };

// One message: role, body (Markdown for replies), its status when not complete, its sources.
export function message({ role, content, status, sources }) {
  const item = document.createElement("article");
  item.className = `msg ${role}`;
  const who = document.createElement("h3");
  who.className = "who";
  who.textContent = role === "user" ? "You" : role === "assistant" ? "Assistant" : role;
  item.append(who, role === "assistant" ? markdown(content || "") : plain(content || ""));
  setMark(item, status);
  if (role === "assistant" && status) item.dataset.done = status;
  addSources(item, sources);
  return item;
}

export function setMark(item, status) {
  item.querySelector(".mark")?.remove();
  if (!MARKS[status]) return;
  const mark = document.createElement("p");
  mark.className = "mark";
  mark.textContent = `(${MARKS[status]})`;
  item.append(mark);
}

export function notice(text, kind = "notice") {
  const line = document.createElement("p");
  line.className = kind;
  line.textContent = text;
  return line;
}

// The RAG sources a reply was built from, under it (once).
export function addSources(item, sources) {
  if (!Array.isArray(sources) || !sources.length || item.querySelector(".sources")) return;
  item.append(sourceList(sources));
}

function sourceList(sources) {
  const list = document.createElement("ol");
  list.className = "sources";
  list.setAttribute("aria-label", "Sources");
  for (const s of sources) {
    const li = document.createElement("li");
    const chunk = s.chunk ?? s.chunk_index;
    const score = typeof s.score === "number" ? ` · score ${s.score.toFixed(2)}` : "";
    li.textContent = `${s.path ?? s.source ?? "?"}${chunk != null ? ` (chunk ${chunk})` : ""}${score}`;
    list.append(li);
  }
  return list;
}
