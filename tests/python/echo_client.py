"""A Python `websockets` client for wspeer's interop tests.

Usage: echo_client.py <ws-url> [ca-file | --deflate]

With a CA file (PEM), a wss:// URL is verified against that CA only.
Compression (permessage-deflate) is offered, as `websockets` does by default;
the server must decline it, or with --deflate accept it (then the first line
printed is "extension: <the server's Sec-WebSocket-Extensions>").

Against an echo server: sends text and binary messages and checks each echo
(content and type), pings and waits for the pong, then closes with 4000 "bye"
and checks the server echoed that close. Prints "ok" and exits 0 on success;
any failed check exits non-zero with the reason on stderr.
"""

import asyncio
import ssl
import sys

from websockets.asyncio.client import connect

MESSAGES = [
    "hello from python",
    "",
    "héllo ✓",
    b"",
    bytes([0, 1, 2, 254, 255]),
    bytes(range(256)) * 200,
    "alice: are we still meeting at the usual place tonight? " * 300,
]


async def main(url: str, option: str | None) -> None:
    deflate = option == "--deflate"
    ca_file = None if deflate else option
    tls = ssl.create_default_context(cafile=ca_file) if ca_file else None
    async with connect(url, ssl=tls, open_timeout=10, close_timeout=10) as ws:
        extension = ws.response.headers.get("Sec-WebSocket-Extensions")
        if deflate:
            if extension is None:
                sys.exit("the server declined permessage-deflate")
            print(f"extension: {extension}", flush=True)
        elif extension is not None:
            sys.exit(f"the server accepted an extension: {extension}")
        for message in MESSAGES:
            await ws.send(message)
            echo = await asyncio.wait_for(ws.recv(), 10)
            if type(echo) is not type(message) or echo != message:
                sys.exit(f"sent {message[:40]!r}, got back {echo[:40]!r}")
        pong = await ws.ping(b"are you there")
        await asyncio.wait_for(pong, 10)
        await ws.close(4000, "bye")
    if (ws.close_code, ws.close_reason) != (4000, "bye"):
        sys.exit(f"close echoed as {ws.close_code} {ws.close_reason!r}")
    print("ok", flush=True)


asyncio.run(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
