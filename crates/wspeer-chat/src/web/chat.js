"use strict";
// The same protocol as Godot's websocket_chat demo: subprotocol "demo-chat",
// UTF-8 text frames. Reconnects with exponential backoff when the server goes.
const log = document.getElementById("log");
const status = document.getElementById("status");
const input = document.getElementById("input");
// A sign-in token given to the page (?token=...) goes on to the WebSocket.
const token = new URLSearchParams(location.search).get("token");
const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/" +
  (token ? "?token=" + encodeURIComponent(token) : "");
// Shown as it is, but not reconnected: a moderator closed this client.
const KICKED = 4001;
let socket = null;
let delay = 500;

function show(text, kind) {
  const line = document.createElement("div");
  line.textContent = text;
  if (kind) line.className = kind;
  log.appendChild(line);
  log.scrollTop = log.scrollHeight;
}

function connect() {
  show("Connecting to host: " + url.split("?")[0] + ".", "info");
  socket = new WebSocket(url, "demo-chat");
  socket.onopen = () => {
    delay = 500;
    status.textContent = "connected";
    status.className = "open";
    show("Client just connected with protocol: " + socket.protocol, "info");
  };
  socket.onmessage = (event) => {
    const text = String(event.data);
    // Only the server writes " was ..." right after the first name.
    const moderation = /^\[[^\]]+\] was (kicked|muted for \d+ minute\(s\)) by \[[^\]]+\]$/.test(text);
    show(text, text.startsWith("Server says:") || moderation ? "server" : "");
  };
  socket.onclose = (event) => {
    status.textContent = "disconnected";
    status.className = "closed";
    show("Client just disconnected with code: " + event.code + ", reason: " + event.reason, "info");
    if (event.code === KICKED) {
      status.textContent = "kicked";
      show("You were " + event.reason + ". Reload the page to come back.", "server");
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
