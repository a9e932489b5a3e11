"""A small HTTP proxy that sits between the contract suite and a served emulator and applies
one breakage (breakages.py) to the answers on their way out: the teeth of a live run.

    python -m contract_tests.proxy UPSTREAM_URL BREAKAGE KEY   # prints "proxy listening on URL"
"""

from __future__ import annotations

import socket
import sys
from typing import Any

import httpx
import uvicorn

from . import breakages

_HOP = {b"host", b"connection", b"keep-alive", b"transfer-encoding", b"content-length"}


def forwarder(upstream: str) -> Any:
    client = httpx.AsyncClient(base_url=upstream, timeout=30)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in _HOP]
        url = scope["path"] + (f"?{scope['query_string'].decode('latin-1')}" if scope["query_string"] else "")
        answer = await client.request(scope["method"], url, headers=headers, content=body)
        out = [(k.lower(), v) for k, v in answer.headers.raw if k.lower() not in _HOP]
        if answer.status_code != 204:
            out.append((b"content-length", str(len(answer.content)).encode()))
        await send({"type": "http.response.start", "status": answer.status_code, "headers": out})
        await send({"type": "http.response.body", "body": answer.content})

    return app


def main() -> None:
    upstream, breakage, key = sys.argv[1:4]
    api = breakages.BREAKAGES[breakage][0]
    app = breakages.wrap(forwarder(upstream), api, breakage, key)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.listen(128)  # connections wait in the backlog until uvicorn serves them
    print(f"proxy listening on http://127.0.0.1:{port}", flush=True)
    config = uvicorn.Config(app, log_level="warning", lifespan="off", date_header=False, server_header=False)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
