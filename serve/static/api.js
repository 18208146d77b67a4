// The /v1 API: fetch with the stored key (asked once on a 401), and a run's event stream
// read with fetch + ReadableStream (so the Authorization header goes along; EventSource
// cannot set it), rejoining with Last-Event-ID after a dropped connection.
const KEY = "pocketchat.key";
let asking = null;

export class ApiError extends Error {
  constructor(status, line) { super(line); this.status = status; }
}

export function askKey() {
  if (asking) return asking;
  const dialog = document.getElementById("key-dialog");
  const input = document.getElementById("key-input");
  input.value = "";
  asking = new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      const value = input.value.trim();
      if (dialog.returnValue === "save" && value) localStorage.setItem(KEY, value);
      asking = null;
      resolve(dialog.returnValue === "save" && value !== "");
    }, { once: true });
  });
  dialog.showModal();
  return asking;
}

export function hasKey() { return localStorage.getItem(KEY) !== null; }

export async function api(path, { method = "GET", json, headers = {}, signal } = {}) {
  for (let attempt = 0; ; attempt++) {
    const sent = { ...headers };
    const key = localStorage.getItem(KEY);
    if (key) sent.Authorization = `Bearer ${key}`;
    if (json !== undefined) sent["Content-Type"] = "application/json";
    const body = json === undefined ? undefined : JSON.stringify(json);
    const res = await fetch(path, { method, headers: sent, body, signal });
    if (res.status !== 401) return res;
    if (attempt > 0 || !(await askKey())) {
      throw new ApiError(401, "the server needs a valid API key");
    }
  }
}

export async function errorLine(res) {
  try {
    const body = await res.json();
    return body.error?.message || `${res.status} ${res.statusText}`;
  } catch { return `${res.status} ${res.statusText}`; }
}

export async function call(path, options) {
  const res = await api(path, options);
  if (!res.ok) throw new ApiError(res.status, await errorLine(res));
  return res.status === 204 ? null : res.json();
}

// One run's events, from after `after` (every event when null), following reconnects until
// `done`. onEvent({id, kind, data}) is called once per event, in order, never twice.
export async function follow(runId, after, onEvent, signal) {
  let last = after;
  for (let tries = 0; !signal.aborted; tries++) {
    try {
      const headers = { Accept: "text/event-stream" };
      if (last !== null) headers["Last-Event-ID"] = String(last);
      const res = await api(`/v1/runs/${encodeURIComponent(runId)}/events`, { headers, signal });
      if (!res.ok) throw new ApiError(res.status, await errorLine(res));
      for await (const event of parse(res.body)) {
        tries = 0;
        if (last !== null && event.id <= last) continue;
        last = event.id;
        onEvent(event);
        if (event.kind === "done") return;
      }
    } catch (err) {
      if (signal.aborted || err instanceof ApiError) throw err;
    }
    await new Promise((ok) => setTimeout(ok, Math.min(5000, 250 * 2 ** tries)));
  }
}

async function* parse(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value;
    const cut = buf.endsWith("\r") ? buf.length - 1 : buf.length;  // a CRLF split in two
    let text = buf.slice(0, cut).replace(/\r\n?/g, "\n");
    buf = buf.slice(cut);
    let end;
    while ((end = text.indexOf("\n\n")) >= 0) {
      const event = block(text.slice(0, end));
      text = text.slice(end + 2);
      if (event) yield event;
    }
    buf = text + buf;
  }
}

function block(text) {
  let id = null, kind = "message";
  const data = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith(":")) continue;  // pings are comments
    const at = line.indexOf(":");
    const field = at < 0 ? line : line.slice(0, at);
    const value = at < 0 ? "" : line.slice(at + 1).replace(/^ /, "");
    if (field === "id") id = Number(value);
    else if (field === "event") kind = value;
    else if (field === "data") data.push(value);
  }
  if (id === null || !data.length) return null;
  return { id, kind, data: JSON.parse(data.join("\n")) };
}
