"""The address guard for fetching URLs: only http(s), and only public addresses unless allowed.

A URL given to the bot could point at the machine itself or its network (`http://127.1/`,
`http://[::ffff:10.0.0.1]/`, cloud metadata at 169.254.169.254). `resolve_url` resolves the host
and checks every address it resolves to; intake then connects to one of exactly those addresses,
so a name that resolves differently a moment later (DNS rebinding) cannot slip through.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
from urllib.parse import unquote

import httpx

from factcheck.errors import FetchError

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
ALLOWED_SCHEMES = ("http", "https")
# One part of a dotted IPv4 address as inet_aton reads it: hex, octal or decimal.
_NUMBER = re.compile(r"0x[0-9a-f]+|0[0-7]*|[1-9][0-9]*")
# NAT64 addresses carry an IPv4 address in their last 32 bits.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_ALLOW_HINT = "Only public addresses are fetched (set ALLOW_PRIVATE_URLS=true to allow others)."


def check_url(url: str, allow_private: bool) -> None:
    """Raise FetchError unless `url` is http(s) and every address of its host may be fetched."""
    resolve_url(url, allow_private)


def resolve_url(url: str | httpx.URL, allow_private: bool) -> list[IPAddress]:
    """The addresses of the URL's host, each checked; raises FetchError when any is refused."""
    parsed = parse_url(url)
    host = unquote(parsed.raw_host.decode("ascii"))
    literal = parse_ip(host)
    addresses = [literal] if literal else _resolve(host, parsed)
    for address in addresses:
        problem = address_problem(address)
        if problem and not allow_private:
            what = f"{host} is" if literal else f"{host} resolves to {address},"
            raise FetchError(f"refusing to fetch {parsed}: {what} {problem}. {_ALLOW_HINT}")
    return addresses


def parse_url(url: str | httpx.URL) -> httpx.URL:
    """Parse with httpx (the client that will fetch it) and accept only http(s) with a host."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise FetchError(f"{url} is not a valid URL ({exc}). Check the address.") from exc
    if parsed.scheme not in ALLOWED_SCHEMES:
        raise FetchError(f"refusing to fetch {url}: only http and https URLs can be fetched.")
    if not parsed.raw_host:
        raise FetchError(f"{url} has no host name. Check the address.")
    return parsed


def parse_ip(host: str) -> IPAddress | None:
    """An IP literal in any spelling inet_aton accepts (127.1, 0x7f.1, 2130706433), or None."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    parts = host.lower().split(".")
    if not 1 <= len(parts) <= 4 or not all(_NUMBER.fullmatch(part) for part in parts):
        return None
    numbers = [
        int(part, 16 if part.startswith("0x") else 8 if part.startswith("0") else 10)
        for part in parts
    ]
    # inet_aton: the last part fills all the bytes the earlier parts leave.
    value, last_bits = 0, 8 * (5 - len(parts))
    for number in numbers[:-1]:
        if not 0 <= number <= 255:
            return None
        value = value << 8 | number
    if not 0 <= numbers[-1] < 1 << last_bits:
        return None
    return ipaddress.IPv4Address(value << last_bits | numbers[-1])


def address_problem(address: IPAddress) -> str | None:
    """Why fetching from `address` is refused ('a loopback address', ...), or None if public."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return address_problem(embedded)
    for flag, name in (
        ("is_unspecified", "an unspecified address"),
        ("is_loopback", "a loopback address"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
        ("is_reserved", "a reserved address"),
        ("is_private", "a private address"),
    ):
        if getattr(address, flag):
            return name
    return None if address.is_global else "not a public address"


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    # ::ffff:127.0.0.1, 2002:7f00:1:: (6to4) and 64:ff9b::7f00:1 reach the IPv4 address inside.
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.ipv4_mapped or address.sixtofour


def _resolve(host: str, url: httpx.URL) -> list[IPAddress]:
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(
            f"could not reach {url}: the host name {host} was not found. Check the address."
        ) from exc
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in addresses:
            addresses.append(address)
    return addresses
