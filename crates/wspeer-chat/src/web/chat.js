"use strict";
// The same protocol as Godot's websocket_chat demo: subprotocol "demo-chat",
// UTF-8 text frames. Reconnects with exponential backoff when the server goes.
const log = document.getElementById("log");
const status = document.getElementById("status");
const input = document.getElementById("input");
const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/";
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
  show("Connecting to host: " + url + ".", "info");
  socket = new WebSocket(url, "demo-chat");
  socket.onopen = () => {
    delay = 500;
    status.textContent = "connected";
    status.className = "open";
    show("Client just connected with protocol: " + socket.protocol, "info");
  };
  socket.onmessage = (event) => {
    const text = String(event.data);
    show(text, text.startsWith("Server says:") ? "server" : "");
  };
  socket.onclose = (event) => {
    status.textContent = "disconnected";
    status.className = "closed";
    show("Client just disconnected with code: " + event.code + ", reason: " + event.reason, "info");
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
