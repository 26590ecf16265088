"""The poller's HTTP client: every feed, page and robots.txt request goes through ``HttpClient``.

Our own redirects (loops detected), a size cap, one deadline per request, a polite
User-Agent, and a refusal to connect to loopback, private, link-local or otherwise
non-global addresses unless ``allow_private_addresses`` is set. The check is made on the
address actually connected to, so redirects, article pages and DNS answers that change
between polls are covered too.
"""
from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
import zlib
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Mapping
from urllib.parse import quote, urljoin, urlsplit

from pipelines import __version__

USER_AGENT = f"newsflow/{__version__} (news feed poller; polls at most once per interval)"
REDIRECT_CODES = (301, 302, 303, 307, 308)
# Refusals by our own configuration, not by the server: retrying later cannot change them, so
# they must never back a feed off (a flag fixes them at once).
POLICY_REFUSALS = frozenset({"private_address"})

class FetchError(Exception):
    """A request that gave no usable response; ``reason`` is a short stable label for counting."""

    def __init__(self, reason: str, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True)
class HttpConfig:
    """Limits for every request the poller makes."""

    timeout: float = 20.0
    max_bytes: int = 5_000_000
    max_redirects: int = 5
    allow_private_addresses: bool = False
    user_agent: str = USER_AGENT
    host_delay: float = 0.0  # least seconds between two requests to one host


@dataclass(frozen=True)
class FetchResult:
    """A 2xx or 304 response, body decoded from gzip/deflate and within the size cap."""

    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def address_allowed(address: str) -> bool:
    """True for globally routable unicast addresses; False for loopback, private, link-local, ..."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _open_socket(host: str, port: int, timeout: float, allow_private: bool) -> socket.socket:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchError("dns_error", f"cannot resolve {host}: {exc}") from exc
    if not allow_private:
        # Refuse when any answer is non-global: a name that mixes public and private
        # addresses is exactly what a rebinding attack looks like.
        for *_, sockaddr in infos:
            if not address_allowed(sockaddr[0]):
                raise FetchError("private_address", f"{host} resolves to {sockaddr[0]}, a loopback or private "
                                 "address (pass --allow-private-addresses to allow it)")
    last_error: OSError | None = None
    for family, kind, proto, _, sockaddr in infos:
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(timeout)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            last_error = exc
    raise last_error or OSError(f"no address to connect to for {host}")


class _GuardedHTTPConnection(http.client.HTTPConnection):
    """Connects only to the addresses the policy allows (checked on the resolved address)."""

    allow_private = False

    def connect(self):
        self.sock = _open_socket(self.host, self.port, self.timeout, self.allow_private)


class _GuardedHTTPSConnection(http.client.HTTPSConnection, _GuardedHTTPConnection):
    """HTTPS whose TCP connect is ``_GuardedHTTPConnection.connect`` (by the MRO), then TLS."""


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


class HttpClient:
    """GET with manual redirects, a size cap, a total timeout and the address policy."""

    def __init__(self, config: HttpConfig = HttpConfig()):
        self.config = config
        self._tls = ssl.create_default_context()
        self._last_request: dict[str, float] = {}

    def get(self, url: str, headers: Mapping[str, str] | None = None) -> FetchResult:
        """Fetch ``url``, following up to ``max_redirects`` redirects; raise ``FetchError``."""
        self._be_polite(urlsplit(url).hostname or "")
        deadline = time.monotonic() + self.config.timeout
        visited = {url}
        current = url
        for _ in range(self.config.max_redirects + 1):
            status, response_headers, body = self._request(current, headers or {}, deadline)
            if status not in REDIRECT_CODES:
                return FetchResult(current, status, response_headers, body)
            location = response_headers.get("location")
            if not location:
                raise FetchError("bad_redirect", f"{current} answered {status} without a Location")
            current = urljoin(current, location.strip())
            if current in visited:
                raise FetchError("redirect_loop", f"redirect loop at {current}")
            visited.add(current)
        raise FetchError("too_many_redirects", f"more than {self.config.max_redirects} redirects from {url}")

    def _request(self, url: str, headers: Mapping[str, str], deadline: float):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError("bad_url", f"not an http(s) URL: {url!r}")
        try:
            host = parts.hostname.encode("idna").decode("ascii")
            port = parts.port
        except (UnicodeError, ValueError) as exc:
            raise FetchError("bad_url", f"bad host in {url!r}: {exc}") from exc
        target = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
        if parts.query:
            target += "?" + quote(parts.query, safe="/%:@!$&'()*+,;=-._~?")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchError("timeout", f"{url}: timed out")
        if parts.scheme == "https":
            conn = _GuardedHTTPSConnection(host, port, timeout=remaining, context=self._tls)
        else:
            conn = _GuardedHTTPConnection(host, port, timeout=remaining)
        conn.allow_private = self.config.allow_private_addresses
        request_headers = {"User-Agent": self.config.user_agent, "Accept-Encoding": "gzip, deflate",
                           "Connection": "close", **headers}
        try:
            conn.request("GET", target, headers=request_headers)
            response = conn.getresponse()
            response_headers = {k.lower(): v for k, v in response.getheaders()}
            status = response.status
            if status in REDIRECT_CODES or status == 304:
                return status, response_headers, b""
            if status >= 400:
                raise FetchError(f"http_{status}", f"{url} answered HTTP {status} {response.reason}",
                                 _retry_after(response_headers.get("retry-after")))
            body = self._read_capped(response, url, deadline)
            return status, response_headers, self._decode(body, response_headers, url)
        except (TimeoutError, socket.timeout) as exc:
            raise FetchError("timeout", f"{url}: timed out") from exc
        except ssl.SSLError as exc:
            raise FetchError("tls_error", f"{url}: {exc}") from exc
        except ConnectionRefusedError as exc:
            raise FetchError("connection_refused", f"{url}: connection refused") from exc
        except http.client.HTTPException as exc:
            raise FetchError("bad_http", f"{url}: {type(exc).__name__}: {exc}") from exc
        except OSError as exc:
            raise FetchError("connection_error", f"{url}: {exc}") from exc
        finally:
            conn.close()

    def _be_polite(self, host: str) -> None:
        if self.config.host_delay > 0:
            wait = self._last_request.get(host, float("-inf")) + self.config.host_delay - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        self._last_request[host] = time.monotonic()

    def _read_capped(self, response: http.client.HTTPResponse, url: str, deadline: float) -> bytes:
        cap = self.config.max_bytes
        declared = response.getheader("content-length")
        if declared and declared.strip().isdigit() and int(declared) > cap:
            raise FetchError("too_large", f"{url} is {declared} bytes, over the cap of {cap}")
        chunks, size = [], 0
        while True:
            # The socket timeout bounds each read; the deadline bounds a server that trickles.
            if time.monotonic() > deadline:
                raise FetchError("timeout", f"{url}: body not received within {self.config.timeout}s")
            chunk = response.read(65536)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > cap:
                raise FetchError("too_large", f"{url} is over the cap of {cap} bytes")
            chunks.append(chunk)

    def _decode(self, body: bytes, headers: Mapping[str, str], url: str) -> bytes:
        encoding = headers.get("content-encoding", "").strip().lower()
        if encoding in ("", "identity"):
            return body
        if encoding not in ("gzip", "x-gzip", "deflate"):
            raise FetchError("bad_encoding", f"{url}: unsupported Content-Encoding {encoding!r}")
        wbits = 16 + zlib.MAX_WBITS if "gzip" in encoding else zlib.MAX_WBITS
        decompressor = zlib.decompressobj(wbits)
        try:
            # max_length keeps a small compressed bomb from inflating past the cap.
            out = decompressor.decompress(body, self.config.max_bytes + 1)
        except zlib.error as exc:
            raise FetchError("bad_encoding", f"{url}: cannot decompress: {exc}") from exc
        if len(out) > self.config.max_bytes or decompressor.unconsumed_tail:
            raise FetchError("too_large", f"{url} inflates past the cap of {self.config.max_bytes} bytes")
        return out
