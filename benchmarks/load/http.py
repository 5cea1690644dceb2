"""A deliberately small HTTP/1.1 client on asyncio streams: cheap enough to share two cores.

It speaks just what the benchmark needs (keep-alive when the server offers it, Content-Length and
chunked bodies, cookies as a flat name → value map) and nothing else: no TLS, no redirects.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from urllib.parse import urlencode

REQUEST_TIMEOUT = 30.0


class TransportError(Exception):
    """The request got no complete response (refused, reset, closed, timed out)."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    set_cookies: list[str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class Browser:
    """One client: a connection to one loopback server plus the cookies it was given."""

    host: str
    port: int
    cookies: dict[str, str] = field(default_factory=dict)
    _reader: asyncio.StreamReader | None = None
    _writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> HttpResponse:
        return await self.request("GET", path)

    async def post_form(self, path: str, fields: list[tuple[str, str]]) -> HttpResponse:
        body = urlencode(fields).encode("ascii")
        return await self.request(
            "POST", path, body, content_type="application/x-www-form-urlencoded"
        )

    async def request(
        self, method: str, path: str, body: bytes = b"", content_type: str | None = None
    ) -> HttpResponse:
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        if self.cookies:
            head.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if content_type:
            head.append(f"Content-Type: {content_type}")
        if body or method == "POST":
            head.append(f"Content-Length: {len(body)}")
        raw = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        for attempt in (1, 2):
            reused = self._writer is not None
            try:
                return await asyncio.wait_for(self._exchange(raw), REQUEST_TIMEOUT)
            except _StaleConnection:
                # A kept-alive connection the server had already closed: nothing was processed,
                # so sending again is what every browser does (and the form is idempotent).
                if reused and attempt == 1:
                    continue
                raise TransportError("closed before any response") from None
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as error:
                self.close()
                raise TransportError(type(error).__name__, str(error)) from None
            except TimeoutError:
                self.close()
                raise TransportError("timed out") from None
        raise AssertionError("unreachable")

    async def _exchange(self, raw: bytes) -> HttpResponse:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        assert self._reader is not None
        self._writer.write(raw)
        await self._writer.drain()
        try:
            head = await self._reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as error:
            self.close()
            if not error.partial:
                raise _StaleConnection from None
            raise
        except ConnectionResetError:
            self.close()
            raise _StaleConnection from None
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers: dict[str, str] = {}
        set_cookies: list[str] = []
        for line in lines[1:]:
            if not line:
                continue
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "set-cookie":
                set_cookies.append(value)
            headers[name] = value
        if "content-length" in headers:
            body = await self._reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = await self._read_chunked()
        else:
            body = await self._reader.read()
            headers["connection"] = "close"
        if headers.get("connection", "").lower() == "close":
            self.close()
        for cookie in set_cookies:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if "expires=thu, 01 jan 1970" in cookie.lower() or "max-age=0" in cookie.lower():
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return HttpResponse(status, headers, set_cookies, body)

    async def _read_chunked(self) -> bytes:
        assert self._reader is not None
        parts = []
        while True:
            size = int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self._reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self._reader.readexactly(size))
            await self._reader.readexactly(2)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


class _StaleConnection(Exception):
    pass
