// The chat page: sessions, the conversation, sending, the live run (status, stream, Stop),
// rejoining a run after a reload (sessionStorage keeps run id, last event id and the text so far),
// and an idle tab kept up with the session (polled while visible, and on focus) so two tabs on
// one session see the same conversation.
import { ApiError, askKey, call, follow, hasKey } from "./api.js";
import { addSources, markdown, message, notice, setMark } from "./render.js";

const $ = (id) => document.getElementById(id);
const RUN = "pocketchat.run";
const MODEL = "pocketchat.model";
const POLL_MS = 3000;
const state = { session: null, sessions: [], hits: null, live: null, sending: false, seen: "" };

function status(text) { $("status").textContent = text; }

function say(err) {
  status(err instanceof ApiError || err instanceof Error ? err.message : String(err));
}

// -- sessions -------------------------------------------------------------------------------
async function loadSessions() {
  const archived = $("archived").checked ? "&archived=true" : "";
  const page = await call(`/v1/sessions?limit=200${archived}`);
  state.sessions = page.sessions;
  if ($("search").value.trim()) await searchSessions();
  else drawSessions();
}

function titleOf(s) {
  return s.title || `untitled · ${(s.created_at || "").slice(0, 16).replace("T", " ")}`;
}

// With a search: the sessions whose title holds it (at once), then those whose messages match
// on the server (`?q=`, when it answers).
function drawSessions() {
  const q = $("search").value.trim().toLowerCase();
  let shown = state.sessions;
  if (q) {
    shown = state.sessions.filter((s) => titleOf(s).toLowerCase().includes(q));
    const ids = new Set(shown.map((s) => s.id));
    shown = shown.concat((state.hits || []).filter((s) => !ids.has(s.id)));
  }
  const list = $("sessions");
  list.replaceChildren();
  for (const s of shown) {
    const title = titleOf(s);
    const li = document.createElement("li");
    const open = button(title, () => openSession(s.id), "open");
    if (state.session?.id === s.id) open.setAttribute("aria-current", "true");
    const rename = button("Rename", () => renameSession(s), "small");
    rename.setAttribute("aria-label", `Rename ${title}`);
    const archive = s.status === "archived"
      ? button("Restore", () => setArchived(s, false), "small")
      : button("Archive", () => setArchived(s, true), "small");
    archive.setAttribute("aria-label", `${archive.textContent} ${title}`);
    li.append(open);
    if (q && s.match) {
      const match = document.createElement("span");
      match.className = "match";
      match.textContent = s.match;
      li.append(match);
    }
    li.append(rename, archive);
    list.append(li);
  }
}

let searching = null;
function searchSoon() {
  drawSessions();
  clearTimeout(searching);
  searching = setTimeout(() => searchSessions().catch(say), 250);
}

async function searchSessions() {
  const q = $("search").value.trim();
  if (!q) { state.hits = null; return drawSessions(); }
  const archived = $("archived").checked ? "&archived=true" : "";
  const page = await call(`/v1/sessions?limit=200${archived}&q=${encodeURIComponent(q)}`);
  if ($("search").value.trim() !== q) return;  // typed on meanwhile: a newer search follows
  state.hits = page.sessions;
  drawSessions();
}

function button(text, onClick, cls) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  b.className = cls;
  b.addEventListener("click", () => onClick().catch(say));
  return b;
}

async function renameSession(s) {
  const title = window.prompt("New title", s.title || "");
  if (title === null || !title.trim()) return;
  const res = await call(`/v1/sessions/${s.id}`, { method: "PATCH", json: { title: title.trim() } })
    .catch((err) => { throw err.status === 405 ? new Error("rename is not supported by this server") : err; });
  s.title = res.title;
  if (state.session?.id === s.id) $("title").textContent = res.title;
  drawSessions();
}

async function setArchived(s, archive) {
  await call(archive ? `/v1/sessions/${s.id}` : `/v1/sessions/${s.id}/restore`,
    { method: archive ? "DELETE" : "POST" });
  if (archive && state.session?.id === s.id) newChat();
  await loadSessions();
}

function newChat() {
  stopFollowing();
  state.session = null;
  history.replaceState(null, "", "#");
  $("title").textContent = "New chat";
  $("log").replaceChildren();
  status("");
  drawSessions();
  $("box").focus();
}

async function openSession(id, { focus = true } = {}) {
  stopFollowing();
  const s = await call(`/v1/sessions/${encodeURIComponent(id)}`);
  state.session = s;
  history.replaceState(null, "", `#${s.id}`);
  $("title").textContent = s.title || "untitled";
  if (s.model) pickModel(s.model);
  state.seen = signature(s.messages);
  drawConversation(s.messages);
  drawSessions();
  status("");
  if (focus) $("box").focus();
  return s;
}

// What the conversation looks like: a change (another tab's exchange) redraws it.
function signature(messages) {
  return JSON.stringify(messages.map((m) => [m.id, m.status, m.content.length]));
}

// An idle tab catches up with its session: the other tab's message and reply (as stored).
async function sync() {
  const id = state.session?.id;
  if (!id || state.live || state.sending) return;
  const s = await call(`/v1/sessions/${encodeURIComponent(id)}`);
  if (state.session?.id !== id || state.live || state.sending) return;
  const seen = signature(s.messages);
  if (seen === state.seen) return;
  state.session = s;
  state.seen = seen;
  $("title").textContent = s.title || "untitled";
  drawConversation(s.messages);
}

function drawConversation(messages, until = Infinity) {
  const log = $("log");
  log.replaceChildren(...messages.filter((m) => m.id <= until && m.role !== "system").map(message));
  log.scrollTop = log.scrollHeight;
}

// -- models ---------------------------------------------------------------------------------
async function loadModels() {
  const list = await call("/v1/models");
  const select = $("model");
  for (const m of list.data) {
    if (Array.isArray(m.capabilities) && !m.capabilities.includes("completion")) continue;
    select.append(new Option(m.id, m.id));
  }
  pickModel(localStorage.getItem(MODEL) || "");
}

function pickModel(name) {
  const select = $("model");
  if (name && ![...select.options].some((o) => o.value === name)) select.append(new Option(name, name));
  select.value = name;
}

// -- a run ----------------------------------------------------------------------------------
async function send() {
  const box = $("box");
  const content = box.value;
  if (!content.trim() || state.live || state.sending) return;
  const model = $("model").value || undefined;
  state.sending = true;
  try {
    if (!state.session) {
      const title = content.trim().split("\n")[0].slice(0, 60);
      state.session = { ...(await call("/v1/sessions", { method: "POST", json: { model, title } })), messages: [] };
      history.replaceState(null, "", `#${state.session.id}`);
      $("title").textContent = title;
      loadSessions().catch(say);
    }
    const run = await call(`/v1/sessions/${state.session.id}/messages`,
      { method: "POST", json: { content, model } });
    box.value = "";
    $("log").append(message({ role: "user", content }));
    live({ runId: run.run_id, sessionId: state.session.id, messageId: run.message_id, after: null, text: "" });
  } catch (err) { say(err); } finally { state.sending = false; }
}

// Follow a run: one reply element, the status line, Stop; the text so far and the last event
// id are saved with every event, so a reload rejoins exactly after it.
function live(saved) {
  const reply = message({ role: "assistant", content: saved.text });
  reply.classList.add("streaming");
  $("log").append(reply);
  const run = { ...saved, reply, controller: new AbortController(), drawn: false };
  state.live = run;
  $("stop").hidden = false;
  $("send").disabled = true;
  status(saved.text ? "replying…" : "waiting…");
  follow(run.runId, run.after, (event) => onEvent(run, event), run.controller.signal)
    .then(() => finish(run), (err) => { if (!run.controller.signal.aborted) { say(err); finish(run, false); } });
}

function onEvent(run, { id, kind, data }) {
  run.after = id;
  if (kind === "queued") {
    const eta = data.eta_s != null ? ` · about ${Math.max(1, Math.round(data.eta_s))} s` : "";
    status(`#${data.position} in line${eta}`);
  } else if (kind === "loading") status(`loading model ${data.model}…`);
  else if (kind === "started") {
    if (data.replayed) run.text = "";  // an expired log: the whole reply follows in one delta
    status("thinking…");
  }
  else if (kind === "delta") { run.text += data.text; status("replying…"); redraw(run); }
  else if (kind === "notice") run.reply.append(notice(data.text));
  else if (kind === "error") run.reply.append(notice(data.line, "error"));
  else if (kind === "done") { run.status = data.status; run.replyId = data.message_id; status(""); }
  sessionStorage.setItem(RUN, JSON.stringify({ runId: run.runId, sessionId: run.sessionId,
    messageId: run.messageId, after: run.after, text: run.text }));
}

function redraw(run) {
  if (run.drawn) return;
  run.drawn = true;
  setTimeout(() => {  // not requestAnimationFrame: a background tab would not draw at all
    run.drawn = false;
    run.reply.querySelector(".md")?.replaceWith(markdown(run.text));
    $("log").scrollTop = $("log").scrollHeight;
  }, 40);
}

function finish(run, ended = true) {
  if (state.live !== run) return;
  state.live = null;
  sessionStorage.removeItem(RUN);
  run.reply.classList.remove("streaming");
  run.reply.querySelector(".md")?.replaceWith(markdown(run.text));
  if (ended) setMark(run.reply, run.status);
  $("stop").hidden = true;
  $("send").disabled = false;
  run.reply.dataset.done = run.status || "error";
  if (ended) settle(run).catch(say);
}

// After a run: the stored reply's sources drawn under it, and the session as it now is (so the
// next poll does not redraw what is already shown).
async function settle(run) {
  const s = await call(`/v1/sessions/${encodeURIComponent(run.sessionId)}`);
  if (state.session?.id !== s.id || state.live) return;
  state.session = s;
  state.seen = signature(s.messages);
  const stored = s.messages.find((m) => m.id === run.replyId);
  if (stored) addSources(run.reply, stored.sources);
}

function stopFollowing() {
  const run = state.live;
  if (!run) return;
  run.controller.abort();
  state.live = null;
  $("stop").hidden = true;
  $("send").disabled = false;
}

async function stop() {
  const run = state.live;
  if (!run) return;
  status("stopping…");
  await call(`/v1/runs/${run.runId}/cancel`, { method: "POST" });
}

// -- start ----------------------------------------------------------------------------------
async function start() {
  $("key-btn").hidden = !hasKey();
  await loadModels().catch(say);
  await loadSessions().catch(say);
  const saved = JSON.parse(sessionStorage.getItem(RUN) || "null");
  const id = saved?.sessionId || location.hash.slice(1);
  if (!id) return $("box").focus();
  try {
    const s = await openSession(id);
    if (saved && saved.sessionId === s.id) {
      drawConversation(s.messages, saved.messageId);  // the reply comes from the run's events
      live(saved);
    }
  } catch (err) { sessionStorage.removeItem(RUN); say(err); }
}

$("send-form").addEventListener("submit", (e) => { e.preventDefault(); send(); });
$("box").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(); }
});
$("stop").addEventListener("click", () => stop().catch(say));
$("new").addEventListener("click", newChat);
$("search").addEventListener("input", searchSoon);
$("archived").addEventListener("change", () => loadSessions().catch(say));
$("model").addEventListener("change", () => localStorage.setItem(MODEL, $("model").value));
$("key-btn").addEventListener("click", () => askKey().then(() => location.reload()));
$("menu").addEventListener("click", () => {
  const open = document.body.classList.toggle("menu-open");
  $("menu").setAttribute("aria-expanded", String(open));
});
window.addEventListener("focus", () => sync().catch(say));
document.addEventListener("visibilitychange", () => sync().catch(say));
setInterval(() => { if (document.visibilityState === "visible") sync().catch(() => {}); }, POLL_MS);
start();
