# A Godot 3 WebSocketClient with the multiplayer API on, for wspeer's Variant
# interop test. Connects to $WSPEER_URL offering "ludus", sends put_var(table)
# and put_var(a padded NodePath) to the server, then checks that what the
# server sends back is byte-identical to its own var2bytes. The table is the
# one crates/wspeer/tests/godot/variant_client.gd sends through WebSocketPeer.
# Every line it prints is checked by crates/wspeer-multiplayer/tests/it/godot3_variant.rs.
extends SceneTree

var client = WebSocketClient.new()
var done = false
var got = 0
var deadline = 0

func table():
	var big_bytes = PoolByteArray()
	var big_ints = PoolIntArray()
	for i in range(10000):
		big_bytes.append(i % 256)
	for i in range(5000):
		big_ints.append(i * 3 - 7000)
	return {
		"nil": null,
		"t": true,
		"f": false,
		"int": 42,
		"neg": -7,
		"i32_edge": 2147483648,
		"i64_max": 9223372036854775807,
		"i64_min": -9223372036854775807 - 1,
		"real": 1.5,
		"real64": 0.1,
		"inf": INF,
		"ninf": -INF,
		"nan": NAN,
		"empty": "",
		"utf8": "héllo 日本 🎮",
		"v2": Vector2(1, -2),
		"rect": Rect2(1, 2, 3, 4),
		"v3": Vector3(1, 2, 3),
		"t2d": Transform2D(Vector2(1, 2), Vector2(3, 4), Vector2(5, 6)),
		"plane": Plane(1, 2, 3, 4),
		"quat": Quat(0.5, 0.25, 0.125, 1),
		"aabb": AABB(Vector3(1, 2, 3), Vector3(4, 5, 6)),
		"basis": Basis(Vector3(1, 2, 3), Vector3(4, 5, 6), Vector3(7, 8, 9)),
		"xform": Transform(Basis(Vector3(1, 2, 3), Vector3(4, 5, 6), Vector3(7, 8, 9)), Vector3(10, 11, 12)),
		"color": Color(0.5, 0.25, 1, 0.75),
		"path": NodePath("/root/Main:abcd"),
		"rid": RID(),
		7: "int key",
		"nested": [1, [2, {"x": "y"}], []],
		"bytes": big_bytes,
		"ints": PoolIntArray([0, -1, 2147483647, -2147483648]),
		"big_ints": big_ints,
		"reals": PoolRealArray([1.5, -0.0, INF]),
		"strings": PoolStringArray(["", "a", "héllo"]),
		"v2s": PoolVector2Array([Vector2(1, 2), Vector2(-3, 4)]),
		"v3s": PoolVector3Array([Vector3(1, 2, 3)]),
		"colors": PoolColorArray([Color(1, 0, 0, 1)]),
	}

func padded_path():
	return NodePath("/root/a:b")

func _init():
	client.connect("connection_succeeded", self, "_on_succeeded")
	client.connect("connection_failed", self, "_on_failed")
	var err = client.connect_to_url(OS.get_environment("WSPEER_URL"), PoolStringArray(["ludus"]), true)
	print("connect ", err)
	deadline = OS.get_ticks_msec() + 30000

func _on_succeeded():
	client.set_target_peer(1)
	print("put_var ", client.put_var(table()))
	print("put_var ", client.put_var(padded_path()))

func _on_failed():
	print("connection_failed")
	done = true

func _idle(_delta):
	client.poll()
	while client.get_available_packet_count() > 0:
		var from = client.get_packet_peer()
		var packet = client.get_packet()
		got += 1
		if got == 1:
			var mine = var2bytes(table())
			print("bytes_identical ", from, " ", packet.hex_encode() == mine.hex_encode())
		else:
			print("path_equal ", from, " ", bytes2var(packet) == padded_path())
			client.disconnect_from_host(1000, "bye")
	if done or OS.get_ticks_msec() > deadline:
		if not done:
			print("timeout")
		quit()
