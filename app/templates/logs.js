// The live log page: the SSE stream of redacted entries, with a level filter, a text search, pause/resume
// and a visible connection state. A file of its own (not an inline script), so the page works under a
// CSP that allows scripts from this origin only.
"use strict";
const LEVELS = { debug: 10, info: 20, warning: 30, error: 40, critical: 50 };
const MAX_ROWS = 1000;
const params = new URLSearchParams(location.search);
const key = params.get("api_key");
const url = "stream" + (key ? "?api_key=" + encodeURIComponent(key) : "");
const box = document.getElementById("log");
const status = document.getElementById("status");
const levelSelect = document.getElementById("level");
const searchInput = document.getElementById("search");
const pauseButton = document.getElementById("pause");
const pendingLabel = document.getElementById("pending");
let paused = false;
let pending = [];  // rows received while paused, shown on resume
let shown = 0;

function visible(row) {
  const minimum = LEVELS[levelSelect.value] || 0;
  const query = searchInput.value.trim().toLowerCase();
  return (LEVELS[row.dataset.level] || 0) >= minimum && (!query || row.textContent.toLowerCase().includes(query));
}

function applyFilters() {
  for (const row of box.children) row.hidden = !visible(row);
}

function show(row) {
  row.hidden = !visible(row);
  box.prepend(row);
  while (box.childNodes.length > MAX_ROWS) box.removeChild(box.lastChild);
  document.getElementById("count").textContent = (++shown) + " lines";
}

function add(text, level, cls) {
  const row = document.createElement("div");
  row.className = "row " + cls;
  row.dataset.level = level;
  row.textContent = text;
  if (paused) {
    pending.push(row);
    pendingLabel.textContent = pending.length + " new while paused";
  } else {
    show(row);
  }
}

function setState(state, text) {
  status.dataset.state = state;
  status.className = state;
  status.textContent = text;
}

pauseButton.addEventListener("click", () => {
  paused = !paused;
  pauseButton.textContent = paused ? "resume" : "pause";
  pauseButton.setAttribute("aria-pressed", String(paused));
  if (!paused) {
    for (const row of pending) show(row);
    pending = [];
    pendingLabel.textContent = "";
  }
});
levelSelect.addEventListener("change", applyFilters);
searchInput.addEventListener("input", applyFilters);

// EventSource reconnects by itself and sends Last-Event-ID, so the server replays what was missed.
const source = new EventSource(url);
source.onopen = () => setState("live", "live");
source.onerror = () => {
  if (source.readyState === EventSource.CLOSED) {
    setState("closed", "disconnected: reload the page (is the log key right?)");
  } else {
    setState("reconnecting", "reconnecting…");
  }
};
source.addEventListener("log", (ev) => {
  const e = JSON.parse(ev.data);
  const fields = Object.keys(e.fields || {}).length ? " " + JSON.stringify(e.fields) : "";
  add(e.timestamp + " " + e.level.toUpperCase() + " " + e.event + fields, e.level, "lvl-" + e.level);
});
source.addEventListener("dropped", (ev) => {
  add("… " + JSON.parse(ev.data).dropped + " entries were dropped (client too slow)", "warning", "notice");
});
