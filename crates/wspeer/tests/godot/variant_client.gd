# A Godot 3 WebSocketClient for wspeer's Variant interop test.
# Connects to $WSPEER_URL, sends put_var(table) and put_var(a padded NodePath),
# then checks what wspeer sends back: the same table, byte for byte equal to
# this Godot's own var2bytes, and the NodePath equal.
# Every line it prints is checked by crates/wspeer/tests/it/godot_variant.rs.
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
	client.connect("connection_established", self, "_on_established")
	client.connect("connection_error", self, "_on_error")
	client.connect("connection_closed", self, "_on_closed")
	client.connect("data_received", self, "_on_data")
	var err = client.connect_to_url(OS.get_environment("WSPEER_URL"))
	print("connect ", err)
	deadline = OS.get_ticks_msec() + 20000

func _on_established(_protocol):
	var peer = client.get_peer(1)
	peer.set_write_mode(WebSocketPeer.WRITE_MODE_BINARY)
	print("put_var ", peer.put_var(table()))
	print("put_var ", peer.put_var(padded_path()))

func _on_data():
	var peer = client.get_peer(1)
	var packet = peer.get_packet()
	got += 1
	if got == 1:
		var mine = var2bytes(table())
		print("bytes_identical ", packet.hex_encode() == mine.hex_encode(), " ", packet.size(), " ", mine.size())
		var decoded = bytes2var(packet)
		var expected = table()
		var mismatches = 0
		for key in expected:
			if key is String and key == "nan":
				if not is_nan(decoded[key]):
					print("mismatch nan")
					mismatches += 1
			elif key is String and key == "nested":
				if str(decoded[key]) != str(expected[key]):
					print("mismatch nested")
					mismatches += 1
			elif typeof(decoded[key]) != typeof(expected[key]) or decoded[key] != expected[key]:
				print("mismatch ", key)
				mismatches += 1
		print("keys ", decoded.size(), " ", expected.size(), " mismatches ", mismatches)
	else:
		print("path_equal ", bytes2var(packet) == padded_path())
		client.disconnect_from_host(1000, "done")

func _on_closed(clean):
	print("closed")
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
