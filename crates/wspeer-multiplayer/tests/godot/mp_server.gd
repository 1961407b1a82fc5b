# A Godot 3 WebSocketServer with the multiplayer API on, for wspeer's
# multiplayer interop tests. Listens on $WSPEER_PORT for "ludus", prints every
# multiplayer signal and every packet with get_packet_peer(). A packet
# "send <target> <text>" makes it set_target_peer(target) and put_packet(text).
# Quits after $WSPEER_CLIENTS clients have left (or 30 s, printing "timeout").
# Every line it prints is checked by crates/wspeer-multiplayer/tests/it/godot3_interop.rs.
extends SceneTree

var server = WebSocketServer.new()
var clients = int(OS.get_environment("WSPEER_CLIENTS"))
var gone = 0
var deadline = 0

func _init():
	server.connect("peer_connected", self, "_on_peer_connected")
	server.connect("peer_disconnected", self, "_on_peer_disconnected")
	var err = server.listen(int(OS.get_environment("WSPEER_PORT")), PoolStringArray(["ludus"]), true)
	print("listening ", err)
	deadline = OS.get_ticks_msec() + 30000

func _on_peer_connected(id):
	print("peer_connected ", id)

func _on_peer_disconnected(id):
	print("peer_disconnected ", id)
	gone += 1

func _command(text):
	var words = text.split(" ", false, 2)
	if words.size() == 3 and words[0] == "send":
		server.set_target_peer(words[1].to_int())
		server.put_packet(words[2].to_utf8())

func _idle(_delta):
	server.poll()
	while server.get_available_packet_count() > 0:
		var from = server.get_packet_peer()
		var text = server.get_packet().get_string_from_utf8()
		print("packet ", from, " ", text)
		_command(text)
	if gone >= clients or OS.get_ticks_msec() > deadline:
		if gone < clients:
			print("timeout")
		server.stop()
		quit()
