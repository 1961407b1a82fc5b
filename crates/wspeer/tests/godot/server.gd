# A Godot 3 WebSocketServer for wspeer's interop tests.
# Listens on $WSPEER_PORT for "demo-chat", echoes every message with its own
# frame type, and quits after $WSPEER_CLIENTS clients have disconnected (or
# after $WSPEER_DEADLINE_MS, default 30 s, printing "timeout").
# Every line it prints is checked by crates/wspeer/tests/it/godot_interop.rs.
extends SceneTree

var server = WebSocketServer.new()
var clients = int(OS.get_environment("WSPEER_CLIENTS"))
var gone = 0
var deadline = 0

func _init():
	server.connect("client_connected", self, "_on_connected")
	server.connect("client_disconnected", self, "_on_disconnected")
	server.connect("client_close_request", self, "_on_close_request")
	server.connect("data_received", self, "_on_data")
	var err = server.listen(int(OS.get_environment("WSPEER_PORT")), PoolStringArray(["demo-chat"]))
	print("listening ", err)
	var wait = OS.get_environment("WSPEER_DEADLINE_MS")
	deadline = OS.get_ticks_msec() + (int(wait) if wait != "" else 30000)

func _on_connected(id, protocol):
	print("connected ", protocol)

func _on_data(id):
	var peer = server.get_peer(id)
	var packet = peer.get_packet()
	var text = peer.was_string_packet()
	print("data ", packet.size(), " text ", text)
	if text:
		peer.set_write_mode(WebSocketPeer.WRITE_MODE_TEXT)
	else:
		peer.set_write_mode(WebSocketPeer.WRITE_MODE_BINARY)
	peer.put_packet(packet)

func _on_close_request(id, code, reason):
	print("close_request ", code, " ", reason)

func _on_disconnected(id, clean):
	print("disconnected ", clean)
	gone += 1

func _idle(_delta):
	server.poll()
	if gone >= clients or OS.get_ticks_msec() > deadline:
		if gone < clients:
			print("timeout")
		server.stop()
		quit()
