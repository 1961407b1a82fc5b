# Godot's websocket_chat demo client, reduced to a script: a Godot 3
# WebSocketClient with protocol "demo-chat" joins $WSPEER_URL, says hello,
# prints every line it receives, and leaves once a Rust client has answered.
# Checked by crates/wspeer-chat/tests/it/godot_chat.rs.
extends SceneTree

var client = WebSocketClient.new()
var done = false
var deadline = 0

func _init():
	client.connect("connection_established", self, "_on_established")
	client.connect("connection_error", self, "_on_closed")
	client.connect("connection_closed", self, "_on_closed")
	client.connect("data_received", self, "_on_data")
	client.connect_to_url(OS.get_environment("WSPEER_URL"), PoolStringArray(["demo-chat"]))
	deadline = OS.get_ticks_msec() + 20000

func _on_established(protocol):
	print("Client just connected with protocol: ", protocol)
	client.get_peer(1).set_write_mode(WebSocketPeer.WRITE_MODE_TEXT)
	client.get_peer(1).put_packet("hello from godot".to_utf8())

func _on_data():
	var line = client.get_peer(1).get_packet().get_string_from_utf8()
	print(line)
	if line.ends_with("Says: hello from rust"):
		client.disconnect_from_host(1000, "")

func _on_closed(_clean = false):
	done = true

func _idle(_delta):
	client.poll()
	if done or OS.get_ticks_msec() > deadline:
		quit()
