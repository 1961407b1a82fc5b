"""Sends a message larger than the server accepts and reports how it closed.

Usage: oversize_client.py <ws-url> <size>

Prints "closed <code> <reason>" with the close frame the server sent, then
exits 0. Run by tests/tests/it/core_python_interop.rs against a wspeer server.
"""

import asyncio
import sys

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed


async def main(url: str, size: int) -> None:
    async with connect(url, open_timeout=10, close_timeout=10) as ws:
        await ws.send(b"x" * size)
        try:
            await asyncio.wait_for(ws.recv(), 10)
            sys.exit("the server echoed a message it should have refused")
        except ConnectionClosed as closed:
            frame = closed.rcvd
            if frame is None:
                sys.exit("the server closed without a close frame")
            print(f"closed {frame.code} {frame.reason}", flush=True)


asyncio.run(main(sys.argv[1], int(sys.argv[2])))
