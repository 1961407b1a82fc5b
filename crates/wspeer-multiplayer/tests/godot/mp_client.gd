# A Godot 3 WebSocketClient with the multiplayer API on, for wspeer's
# multiplayer interop tests. Connects to $WSPEER_URL offering "ludus", prints
# every multiplayer signal and every packet with get_packet_peer(). A packet
# "send <target> <text>" makes it set_target_peer(target) and put_packet(text);
# "quit" makes it disconnect (Godot 3 then reports connection_failed) and quit.
# Every line it prints is checked by crates/wspeer-multiplayer/tests/it/godot3_interop.rs.
extends SceneTree

var client = WebSocketClient.new()
var done = false
var deadline = 0

func _init():
	client.connect("connection_succeeded", self, "_on_succeeded")
	client.connect("connection_failed", self, "_on_failed")
	client.connect("peer_connected", self, "_on_peer_connected")
	client.connect("peer_disconnected", self, "_on_peer_disconnected")
	var err = client.connect_to_url(OS.get_environment("WSPEER_URL"), PoolStringArray(["ludus"]), true)
	print("connect ", err)
	deadline = OS.get_ticks_msec() + 30000

func _on_succeeded():
	print("connected ", client.get_unique_id())

func _on_failed():
	print("connection_failed")
	done = true

func _on_peer_connected(id):
	print("peer_connected ", id)

func _on_peer_disconnected(id):
	print("peer_disconnected ", id)

func _command(text):
	var words = text.split(" ", false, 2)
	if words.size() == 3 and words[0] == "send":
		client.set_target_peer(words[1].to_int())
		client.put_packet(words[2].to_utf8())
	elif text == "quit":
		client.disconnect_from_host(1000, "bye")

func _idle(_delta):
	client.poll()
	while client.get_available_packet_count() > 0:
		var from = client.get_packet_peer()
		var text = client.get_packet().get_string_from_utf8()
		print("packet ", from, " ", text)
		_command(text)
	if done or OS.get_ticks_msec() > deadline:
		if not done:
			print("timeout")
		quit()
