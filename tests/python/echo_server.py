"""A Python `websockets` echo server for wspeer's interop tests.

Serves one connection on 127.0.0.1 with a port the OS picks, with
permessage-deflate on (the `websockets` default), and prints:
  - the port, once listening;
  - "closed <code> <reason>" once that connection has ended;
then exits. Run by tests/tests/it/core_python_interop.rs.
"""

import asyncio

from websockets.asyncio.server import serve


async def main() -> None:
    done = asyncio.get_running_loop().create_future()

    async def echo(ws) -> None:
        try:
            async for message in ws:  # str for text frames, bytes for binary
                await ws.send(message)
        finally:
            print(f"closed {ws.close_code} {ws.close_reason}", flush=True)
            if not done.done():
                done.set_result(None)

    async with serve(echo, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        print(port, flush=True)
        await asyncio.wait_for(done, timeout=30)


asyncio.run(main())
