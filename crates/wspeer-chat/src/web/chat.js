"use strict";
// The chat's web page. It speaks the demo's protocol (subprotocol "demo-chat",
// text frames) with ids=1, so every frame is JSON with the demo's text, and
// kept room lines carry an id. After a reconnect it resumes after the last id
// it showed (?room=..&after=..): the server sends what was missed, in order,
// or says that some of it is no longer kept; a line is never shown twice.
const log = document.getElementById("log");
const status = document.getElementById("status");
const input = document.getElementById("input");
const roomLabel = document.getElementById("room");
const meLabel = document.getElementById("me");
const badge = document.getElementById("badge");
const membersList = document.getElementById("members");
const count = document.getElementById("count");
// A sign-in token given to the page (?token=...) goes on to the WebSocket; a
// wspeer_token cookie goes by itself.
const token = new URLSearchParams(location.search).get("token");
// Shown as it is, but not reconnected: a moderator closed this client.
const KICKED = 4001;
let socket = null;
let delay = 500;
let room = null;
let me = null;
let lastId = null;
let members = new Set();
let unmuteTimer = null;

function show(text, kind, id) {
  const line = document.createElement("div");
  line.textContent = text;
  if (kind) line.className = kind;
  if (id !== undefined) line.dataset.id = String(id);
  log.appendChild(line);
  log.scrollTop = log.scrollHeight;
}

function url() {
  const query = new URLSearchParams({ ids: "1" });
  if (room !== null) query.set("room", room);
  if (room !== null && lastId !== null) query.set("after", String(lastId));
  if (token) query.set("token", token);
  return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/?" + query;
}

function showMembers() {
  membersList.replaceChildren(...[...members].sort().map((name) => {
    const item = document.createElement("li");
    item.textContent = name + (name === me ? " (you)" : "");
    return item;
  }));
  count.textContent = "(" + members.size + ")";
}

function setMuted(minutes) {
  clearTimeout(unmuteTimer);
  badge.className = minutes > 0 ? "muted" : "";
  badge.textContent = minutes > 0 ? "muted " + minutes + " min" : "";
  if (minutes > 0) unmuteTimer = setTimeout(() => setMuted(0), minutes * 60000);
}

// Presence and moderation lines are the server's: a member's own line always
// has "] Says: " right after its name, and names hold no "]".
const PRESENCE = /^\[([^\]]+)\] (connected|disconnected|joined|left for \S+|is now \[([^\]]+)\])$/;
const MODERATION = /^\[([^\]]+)\] (was kicked by \[[^\]]+\]|was muted for (\d+) minute\(s\) by \[[^\]]+\]|may speak again \(\[[^\]]+\]\))$/;

function presence(text) {
  const seen = PRESENCE.exec(text);
  if (!seen) return false;
  const [, name, what, renamed] = seen;
  if (what === "connected" || what === "joined") members.add(name);
  else if (renamed) { members.delete(name); members.add(renamed); }
  else members.delete(name);
  showMembers();
  return true;
}

function moderation(text) {
  const seen = MODERATION.exec(text);
  if (!seen) return false;
  const [, name, what, minutes] = seen;
  if (name === me) setMuted(what.startsWith("was muted") ? Number(minutes) : 0);
  if (what.startsWith("was kicked")) { members.delete(name); showMembers(); }
  return true;
}

function received(frame) {
  if (frame.event === "welcome") {
    if (frame.room !== room) lastId = null; // another room: its own ids
    room = frame.room;
    me = frame.name;
    roomLabel.textContent = room;
    meLabel.textContent = me + (frame.moderator ? " (moderator)" : "");
    socket.send("/who");
    return;
  }
  if (frame.event === "members") {
    members = new Set(frame.names);
    showMembers();
    return;
  }
  if (frame.event === "gap") {
    if (frame.reset) lastId = null;
    show(frame.text, "gap");
    return;
  }
  if (typeof frame.id === "number") {
    if (lastId !== null && frame.id <= lastId) return; // already shown
    lastId = frame.id;
    const kind = moderation(frame.text) ? "mod" : frame.text.startsWith("Server says:") ? "server" : "";
    show(frame.text, kind, frame.id);
    return;
  }
  const text = String(frame.text);
  if (presence(text)) { show(text, "info"); return; }
  show(text, text.startsWith("Server says:") || text.startsWith("You are muted") ? "server" : "");
}

function connect() {
  const target = url();
  show("Connecting to host: " + target.split("?")[0] + ".", "info");
  socket = new WebSocket(target, "demo-chat");
  socket.onopen = () => {
    delay = 500;
    status.textContent = "connected";
    status.className = "open";
    show("Client just connected with protocol: " + socket.protocol, "info");
  };
  socket.onmessage = (event) => {
    let frame;
    try { frame = JSON.parse(String(event.data)); } catch { frame = { text: String(event.data) }; }
    received(frame);
  };
  socket.onclose = (event) => {
    status.textContent = "disconnected";
    status.className = "closed";
    show("Client just disconnected with code: " + event.code + ", reason: " + event.reason, "info");
    if (event.code === KICKED) {
      status.textContent = "kicked";
      show("You were " + event.reason + ". Reload the page to come back.", "mod");
      return;
    }
    const wait = delay;
    delay = Math.min(delay * 2, 30000);
    show("Reconnecting in " + (wait / 1000) + " s.", "info");
    setTimeout(connect, wait);
  };
}

document.getElementById("form").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = input.value;
  if (!text || !socket || socket.readyState !== WebSocket.OPEN) return;
  show("Sending message: " + text, "me");
  socket.send(text);
  input.value = "";
});

connect();
