"""The address guard as a function: literal addresses only, no traffic is sent."""

from __future__ import annotations

import ipaddress

import pytest

from factcheck import netguard
from factcheck.errors import FetchError


@pytest.mark.parametrize(
    ("spelling", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("10.1", "10.0.0.1"),
        ("192.168.257", "192.168.1.1"),
        ("0", "0.0.0.0"),
        ("::1", "::1"),
        ("::ffff:127.0.0.1", "::ffff:7f00:1"),
    ],
)
def test_parse_ip_reads_every_spelling_of_an_address(spelling: str, address: str) -> None:
    assert netguard.parse_ip(spelling) == ipaddress.ip_address(address)


@pytest.mark.parametrize(
    "host", ["example.com", "08.1.1.1", "1_0.0.0.1", "0x", "256.1.1.1", "1.2.3.4.5", "127.0.0.1."]
)
def test_parse_ip_leaves_names_and_invalid_numbers_to_the_resolver(host: str) -> None:
    assert netguard.parse_ip(host) is None


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("0.0.0.0", "unspecified"),
        ("100.64.0.1", "not a public"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:169.254.169.254", "link-local"),
        ("2002:7f00:1::", "loopback"),
        ("64:ff9b::a00:1", "private"),
    ],
)
def test_address_problem_names_what_is_refused(address: str, problem: str) -> None:
    assert problem in (netguard.address_problem(ipaddress.ip_address(address)) or "")


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"]
)
def test_public_addresses_have_no_problem(address: str) -> None:
    assert netguard.address_problem(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://localhost/",
        "http://LOCALHOST:8080/x",
        "http://[::1]/",
        "http://2130706433/",
        "http://0x7f000001/",
        "http://0x7f.1/",
        "http://127.1/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "https://user:pw@10.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1%25eth0]/",
    ],
)
def test_check_url_refuses_private_addresses(url: str) -> None:
    with pytest.raises(FetchError, match="refusing to fetch"):
        netguard.check_url(url, allow_private=False)


@pytest.mark.parametrize("url", ["http://127.0.0.1/", "http://[::1]/", "http://0x7f.1/"])
def test_check_url_allows_private_addresses_when_asked(url: str) -> None:
    netguard.check_url(url, allow_private=True)


@pytest.mark.parametrize("url", ["http://8.8.8.8/", "https://[2606:4700:4700::1111]:8443/x"])
def test_check_url_allows_public_literal_addresses(url: str) -> None:
    netguard.check_url(url, allow_private=False)


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://8.8.8.8/", "gopher://8.8.8.8/", "javascript:alert(1)"]
)
def test_check_url_refuses_other_schemes_even_when_private_is_allowed(url: str) -> None:
    with pytest.raises(FetchError, match="only http and https"):
        netguard.check_url(url, allow_private=True)


def test_every_resolved_address_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    """A name with one public and one private address is refused, whatever the order."""

    def fake_getaddrinfo(host: str, port: int, **kwargs: object) -> list:
        return [(2, 1, 6, "", ("8.8.8.8", port)), (2, 1, 6, "", ("10.0.0.7", port))]

    monkeypatch.setattr(netguard.socket, "getaddrinfo", fake_getaddrinfo)
    with pytest.raises(FetchError, match=r"10\.0\.0\.7, a private address"):
        netguard.check_url("http://mixed.example/", allow_private=False)


def test_unknown_host_is_a_fetch_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def fail(*args: object, **kwargs: object) -> list:
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(netguard.socket, "getaddrinfo", fail)
    with pytest.raises(FetchError, match="not found"):
        netguard.check_url("http://no-such-host.example/", allow_private=False)
