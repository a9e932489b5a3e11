"""The second ceiling: a raw ASGI app returning the same JSON as GET /api/v1/balance, no
framework at all (what uvicorn alone costs)."""

BODY = b'{"success":true,"data":{"coins":500.0}}'
START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())],
}
END = {"type": "http.response.body", "body": BODY}


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] != "http":
        return
    await send(START)
    await send(END)
