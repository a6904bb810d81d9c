"""Outgoing HTTP to peers: signed fetches and deliveries, with limits that keep us safe.

No request reaches a private, loopback or link-local address unless the instance allows it
(tests do); every request has a timeout; fetched bodies are capped; redirects are re-checked.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from federation.jsondoc import MAX_BODY, DocumentError, parse_document
from federation.signatures import sign_request

ACCEPT_AS = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
ACTIVITY_JSON = "application/activity+json"
MAX_REDIRECTS = 3
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# A host found public is not resolved again for this long (a fan-out posts to it many times).
ADDRESS_CHECK_SECONDS = 30.0
USER_AGENT = "Entraide/0.1 (+{base_url})"


class FetchError(Exception):
    """A fetch that failed; `retryable` tells whether trying later may help."""

    def __init__(self, message: str, *, retryable: bool = False, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.status = status


@dataclass(frozen=True)
class Signer:
    key_id: str
    private_key_pem: str


def _address_allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


_public_hosts: dict[tuple[str, int], float] = {}


async def check_url(url: str, *, allow_private: bool) -> None:
    """Refuse URLs that are not http(s) or that lead to private networks."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise FetchError("Only http and https URLs can be fetched")
    if parts.scheme == "http" and not allow_private:
        raise FetchError("Only https URLs can be fetched")
    if parts.username or parts.password:
        raise FetchError("URLs with credentials are refused")
    if allow_private:
        return
    host = (parts.hostname, parts.port or 443)
    now = time.monotonic()
    if _public_hosts.get(host, 0.0) > now:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(*host, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise FetchError("Host does not resolve", retryable=True) from None
    for info in infos:
        if not _address_allowed(str(info[4][0])):
            raise FetchError("URL leads to a private network address")
    # Only verdicts of "public" are kept, briefly: a refusal is checked afresh each time.
    if len(_public_hosts) > 10_000:
        _public_hosts.clear()
    _public_hosts[host] = now + ADDRESS_CHECK_SECONDS


def _aiohttp_session(max_connections: int) -> aiohttp.ClientSession:
    """Return the session behind the transport: system resolver, system trust store."""
    connector = aiohttp.TCPConnector(
        limit=max_connections,
        keepalive_timeout=15,
        # The system resolver (getaddrinfo), like the SSRF check, not aiodns when installed.
        resolver=aiohttp.ThreadedResolver(),
        # SSL_CERT_FILE / SSL_CERT_DIR are honoured, as httpx itself would.
        ssl=httpx.create_ssl_context(trust_env=True),
    )
    return aiohttp.ClientSession(connector=connector, auto_decompress=False)


class HttpClient:
    """One connection pool for every fetch and delivery of a process."""

    def __init__(self, base_url: str, *, allow_private: bool, max_connections: int = 200):
        self.allow_private = allow_private
        self.user_agent = USER_AGENT.format(base_url=base_url)
        # httpx's own pool spends O(waiting * connections) per event with hundreds of requests
        # queued to hundreds of hosts; the aiohttp transport keeps httpx's API without that
        # (bench/fanout.py, 10,000 inboxes: 90 deliveries/s → 390/s).
        transport = AiohttpTransport(client=lambda: _aiohttp_session(max_connections))
        self.client = httpx.AsyncClient(
            transport=transport,
            timeout=TIMEOUT,
            follow_redirects=False,
            headers={"User-Agent": self.user_agent},
        )

    async def close(self) -> None:
        await self.client.aclose()

    async def get_json(self, url: str, signer: Signer | None) -> dict[str, Any]:
        """Fetch an ActivityStreams document; its id must be on the host that served it."""
        for _ in range(MAX_REDIRECTS + 1):
            await check_url(url, allow_private=self.allow_private)
            headers = {"Accept": ACCEPT_AS}
            if signer is not None:
                headers = sign_request(
                    "GET", url, headers, None, signer.key_id, signer.private_key_pem
                )
            try:
                async with self.client.stream("GET", url, headers=headers) as response:
                    if response.is_redirect and "location" in response.headers:
                        url = urljoin(url, response.headers["location"])
                        continue
                    if response.status_code == 410:
                        raise FetchError("Gone", status=410)
                    if response.status_code != 200:
                        raise FetchError(
                            f"Peer answered {response.status_code}",
                            retryable=response.status_code >= 500
                            or response.status_code in (401, 408, 429),
                            status=response.status_code,
                        )
                    length = response.headers.get("content-length")
                    if length is not None and length.isdigit() and int(length) > MAX_BODY:
                        raise FetchError("Document too large")
                    body = bytearray()
                    async for chunk in response.aiter_bytes():
                        body.extend(chunk)
                        if len(body) > MAX_BODY:
                            raise FetchError("Document too large")
            except httpx.HTTPError as exc:
                raise FetchError(f"Request failed: {type(exc).__name__}", retryable=True) from None
            try:
                document = parse_document(bytes(body))
            except DocumentError as exc:
                raise FetchError(exc.message) from None
            document_id = document.get("id")
            if not isinstance(document_id, str) or (
                urlsplit(document_id).netloc.lower() != urlsplit(url).netloc.lower()
            ):
                raise FetchError("Document id is not on the host that served it")
            return document
        raise FetchError("Too many redirects")

    async def get_jrd(self, url: str) -> dict[str, Any]:
        """Fetch a WebFinger document (unsigned, as peers expect)."""
        await check_url(url, allow_private=self.allow_private)
        try:
            response = await self.client.get(url, headers={"Accept": "application/jrd+json"})
        except httpx.HTTPError as exc:
            raise FetchError(f"Request failed: {type(exc).__name__}", retryable=True) from None
        if response.status_code != 200:
            raise FetchError(f"Peer answered {response.status_code}", status=response.status_code)
        if len(response.content) > 100_000:
            raise FetchError("Document too large")
        try:
            return parse_document(response.content)
        except DocumentError as exc:
            raise FetchError(exc.message) from None

    async def post_activity(
        self, inbox: str, body: bytes, signer: Signer, *, digest: str | None = None
    ) -> int:
        """Deliver a signed activity; return the status (network errors raise FetchError).

        `digest` is the body's Digest header when the caller has it (one body, many inboxes).
        """
        await check_url(inbox, allow_private=self.allow_private)
        headers = {"Content-Type": ACTIVITY_JSON, "User-Agent": self.user_agent}
        if digest is not None:
            headers["Digest"] = digest
        headers = sign_request("POST", inbox, headers, body, signer.key_id, signer.private_key_pem)
        try:
            # Through httpx like every request (its aiohttp transport does the I/O); going to
            # aiohttp directly measured 8.5 s against 8.9 s at 10,000 inboxes, within the
            # ±0.7 s between runs of bench/fanout.py: not worth a second client API.
            async with self.client.stream("POST", inbox, content=body, headers=headers) as response:
                # Read (a bounded part of) the answer so that the connection can be reused.
                received = 0
                async for chunk in response.aiter_raw():
                    received += len(chunk)
                    if received > MAX_BODY:
                        break
                return response.status_code
        except httpx.HTTPError as exc:
            raise FetchError(f"Request failed: {type(exc).__name__}", retryable=True) from None
