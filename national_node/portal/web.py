"""The portal's HTTP plumbing: who the client is (for the rate limits), the headers every response
carries, and reads answered with an ETag.

**Who the client is.** The socket's peer address, always, unless ``trust_forwarded_for`` is set *and*
the peer is one of ``trusted_proxies``: then the client is the last address in ``X-Forwarded-For``
that is not itself a trusted proxy (a proxy appends the address it saw, so what a client wrote in
the header itself comes before it and is never taken). uvicorn's own reading of the header is off
(:mod:`national_node.portal.server`): it trusts 127.0.0.1 by default, so a client on the same host
could otherwise be anyone it liked.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Iterable

from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from national_node.settings import PortalSettings

__all__ = ["MAX_BODY", "SECURITY_HEADERS", "SecurityHeaders", "cached", "client_address", "json_answer"]

#: The largest request body, in bytes.
MAX_BODY = 32 * 1024

#: Sent with every response. The portal has no script, frame or font: a page may load its own style
#: sheet and images, submit forms to itself, and nothing else; no site may frame it.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:;"
    " form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


class SecurityHeaders:
    """ASGI middleware adding :data:`SECURITY_HEADERS` to every response, whatever answered it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, sending)


def _networks(entries: Iterable[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(entry, strict=False) for entry in entries]


def _among(address: str, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(request: Request, settings: PortalSettings) -> str:
    """The client's address, as the rate limits count it (see the module's docs)."""
    peer = request.client.host if request.client else "unknown"
    if not settings.trust_forwarded_for:
        return peer
    proxies = _networks(settings.trusted_proxies)
    if not _among(peer, proxies):
        return peer
    hops = [hop.strip() for value in request.headers.getlist("x-forwarded-for") for hop in value.split(",")]
    hops = [hop for hop in hops if hop]
    for hop in reversed(hops):
        if not _among(hop, proxies):
            return hop
    return hops[0] if hops else peer


def cached(request: Request, payload: bytes, media_type: str, seconds: int) -> Response:
    """A read's answer with its ETag (a hash of the bytes) and Cache-Control; 304 when the client has it."""
    etag = '"' + hashlib.sha256(payload).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={seconds}"}
    wanted = [t.strip() for t in request.headers.get("if-none-match", "").split(",")]
    if etag in wanted or "*" in wanted:
        return Response(status_code=304, headers=headers)
    return Response(payload, media_type=media_type, headers=headers)


def json_answer(request: Request, model: BaseModel, seconds: int) -> Response:
    payload = json.dumps(model.model_dump(), ensure_ascii=False, separators=(",", ":")).encode()
    return cached(request, payload, "application/json", seconds)
