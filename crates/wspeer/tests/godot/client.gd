# A Godot 3 WebSocketClient for wspeer's interop tests.
# Connects to $WSPEER_URL offering "demo-chat", sends a text and a binary
# message, prints what comes back, then closes with 4001 "godot bye".
# Every line it prints is checked by crates/wspeer/tests/it/godot_interop.rs.
extends SceneTree

var client = WebSocketClient.new()
var done = false
var got = 0
var deadline = 0

func _init():
	client.connect("connection_established", self, "_on_established")
	client.connect("connection_error", self, "_on_error")
	client.connect("connection_closed", self, "_on_closed")
	client.connect("server_close_request", self, "_on_close_request")
	client.connect("data_received", self, "_on_data")
	var err = client.connect_to_url(OS.get_environment("WSPEER_URL"), PoolStringArray(["x-other", "demo-chat"]))
	print("connect ", err)
	deadline = OS.get_ticks_msec() + 20000

func _on_established(protocol):
	print("established ", protocol)
	var peer = client.get_peer(1)
	peer.set_write_mode(WebSocketPeer.WRITE_MODE_TEXT)
	peer.put_packet("hello from godot".to_utf8())
	peer.set_write_mode(WebSocketPeer.WRITE_MODE_BINARY)
	peer.put_packet(PoolByteArray([1, 2, 3, 250]))

func _on_data():
	var peer = client.get_peer(1)
	var packet = peer.get_packet()
	if peer.was_string_packet():
		print("text ", packet.get_string_from_utf8())
	else:
		print("binary ", Array(packet))
	got += 1
	if got == 2:
		client.disconnect_from_host(4001, "godot bye")

func _on_close_request(code, reason):
	print("close_request ", code, " ", reason)

func _on_closed(clean):
	print("closed ", clean)
	done = true

func _on_error():
	print("error")
	done = true

func _idle(_delta):
	client.poll()
	if done or OS.get_ticks_msec() > deadline:
		if not done:
			print("timeout")
		quit()
