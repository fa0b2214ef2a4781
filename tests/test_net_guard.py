"""The private-network guard and URL rules: SSRF tricks are refused, on every redirect hop too."""

from __future__ import annotations

import ipaddress
import shutil
import socket
import ssl
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.net_helpers import RawServer, reply, self_signed
from wirewatch.errors import BlockedAddressError, FetchError
from wirewatch.net import AddressPolicy, Gate, blocked_reason, check_url, fetch, host_key
from wirewatch.net.guard import resolve_checked
from wirewatch.settings import Settings

GUARDED = Settings(connect_timeout=2, read_timeout=2, total_timeout=5)
OPEN = Settings(allow_private_networks=True, connect_timeout=2, read_timeout=2, total_timeout=5)

REFUSED_URLS = [
    # not http(s), or not a URL
    "ftp://example.com/feed.xml", "file:///etc/passwd", "javascript:alert(1)",
    "data:text/plain,hello", "gopher://127.0.0.1:6379/_INFO", "not a url", "", "   ",
    "//example.com/feed", "http:example.com/feed", "http:/\\127.0.0.1/", "http://",
    "http:///etc/passwd", "http://exa mple.com/", "http://example.com\r\nHost: x/",
    # credentials and backslash confusions
    "http://evil@127.0.0.1/", "http://user:pass@example.com/", "http://a.com\\@127.0.0.1/",
    "http://127.0.0.1\\@a.com/", "http://a.com%5c@127.0.0.1/", "http://example.com@localhost/",
    # loopback, private, link-local, CGNAT, this-network, multicast, reserved, broadcast
    "http://127.0.0.1/", "http://127.255.255.254:8080/", "http://10.1.2.3/", "http://172.16.0.1/",
    "http://172.31.255.255/", "http://192.168.1.1/", "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/", "http://100.127.255.254/", "http://0.0.0.0/", "http://0.1.2.3/",
    "http://224.0.0.1/", "http://239.255.255.250/", "http://240.0.0.1/",
    "http://255.255.255.255/", "http://192.0.0.8/", "http://198.18.0.1/",
    # IPv6 and IPv4 embedded in IPv6
    "http://[::1]/", "http://[::]/", "http://[0:0:0:0:0:0:0:1]/", "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/", "http://[::ffff:169.254.169.254]/", "http://[::ffff:10.0.0.1]/",
    "http://[::127.0.0.1]/", "http://[fc00::1]/", "http://[fd12:3456:789a::1]/",
    "http://[fe80::1]/", "http://[fe80::1%25eth0]/", "http://[fec0::1]/", "http://[ff02::1]/",
    "http://[64:ff9b::7f00:1]/", "http://[64:ff9b::a9fe:a9fe]/", "http://[64:ff9b::10.0.0.1]/",
    "http://[64:ff9b:1::1]/", "http://[2002:7f00:1::1]/", "http://[2002:a9fe:a9fe::]/",
    "http://[2002:c0a8:101::1]/", "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
    "http://[2001:db8::1]/", "http://[100::1]/",
    # other spellings of 127.0.0.1
    "http://2130706433/", "http://0177.0.0.1/", "http://0x7f.1/", "http://0x7f000001/",
    "http://0x7f.0.0.1/", "http://127.1/", "http://127.0.1/", "http://017700000001/",
    "http://0177.1/", "http://127.000.000.001/", "http://1.0x0.0.1/",
    # names that resolve to loopback without any DNS server
    "http://localhost/", "http://LOCALHOST:8080/", "http://localhost./", "https://localhost:22/",
    "http://feed.localhost/", "http://a.b.LocalHost./",
]


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_ssrf_tricks_are_refused_permanently(url: str) -> None:
    with pytest.raises(FetchError) as caught:
        check_url(url, settings=GUARDED)
    assert caught.value.permanent, caught.value
    assert str(caught.value)
    with pytest.raises(FetchError) as caught:
        fetch(url, settings=GUARDED, max_bytes=1024)
    assert caught.value.permanent


@pytest.mark.parametrize("name", ["ip6-localhost", "ip6-loopback", "localhost6"])
def test_loopback_names_are_refused_where_they_resolve(name: str) -> None:
    try:
        socket.getaddrinfo(name, 80)
    except socket.gaierror:
        pytest.skip(f"{name} does not resolve on this machine")
    with pytest.raises(BlockedAddressError):
        check_url(f"http://{name}/", settings=GUARDED)


@pytest.mark.parametrize(
    "address",
    ["93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4001::200e",
     "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"],
)
def test_public_addresses_pass(address: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) is None


def test_guard_is_on_by_default_and_off_only_when_asked() -> None:
    assert Settings().allow_private_networks is False
    with pytest.raises(BlockedAddressError):
        check_url("http://127.0.0.1:8080/feed", settings=Settings())
    assert check_url("http://127.0.0.1:8080/feed", settings=OPEN) == "http://127.0.0.1:8080/feed"


def test_urls_come_back_normalised() -> None:
    assert check_url("HTTP://127.0.0.1:80/a b?q=1", settings=OPEN) == "http://127.0.0.1/a%20b?q=1"


# --- redirects are checked hop by hop ---------------------------------------------------------
# The guard cannot be on for a server on 127.0.0.1, so the redirecting server listens on
# 127.0.0.2 and the test policy exempts exactly that address; everything else stays guarded.

EXEMPT = AddressPolicy(exempt=("127.0.0.2/32",))


@pytest.fixture(scope="module")
def inner() -> Iterator[RawServer]:
    """A server on 127.0.0.1 that must never be reached with the guard on."""
    server = RawServer("127.0.0.1")
    server.routes["/secret"] = lambda r: reply(r, 200, b"internal secret")
    yield server
    server.close()


@pytest.fixture(scope="module")
def outer() -> Iterator[RawServer]:
    server = RawServer("127.0.0.2")
    server.routes["/ok"] = lambda r: reply(r, 200, b"public page")
    yield server
    server.close()


@pytest.mark.parametrize(
    "target",
    ["http://127.0.0.1:{inner}/secret", "http://localhost:{inner}/secret",
     "http://[::ffff:127.0.0.1]:{inner}/secret", "http://2130706433:{inner}/secret",
     "http://evil@127.0.0.2:{outer}/ok", "file:///etc/passwd", "ftp://127.0.0.2/",
     "http://a.com\\@127.0.0.1:{inner}/secret"],
)
def test_redirect_to_a_refused_target_is_refused(
    inner: RawServer, outer: RawServer, target: str
) -> None:
    location = target.format(inner=inner.port, outer=outer.port)
    outer.routes["/hop"] = lambda r: reply(r, 302, headers={"Location": location})
    gate = Gate(GUARDED, policy=EXEMPT)
    assert gate.fetch(outer.url("/ok"), max_bytes=1024).content == b"public page"
    before = len(inner.requests)
    with pytest.raises(FetchError) as caught:
        gate.fetch(outer.url("/hop"), max_bytes=1024)
    assert caught.value.permanent
    assert len(inner.requests) == before, "the guarded server was reached"


def test_the_checked_address_is_the_one_connected_to(outer: RawServer) -> None:
    """One lookup per connection: a name answering differently the second time changes nothing."""
    calls: list[str] = []

    def rebinding(host: str, port: int, *args: object) -> list:
        calls.append(host)
        address = "127.0.0.2" if len(calls) == 1 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    gate = Gate(GUARDED, policy=AddressPolicy(exempt=("127.0.0.2/32",), resolver=rebinding))
    response = gate.fetch(f"http://feed.test:{outer.port}/ok", max_bytes=1024)
    assert response.content == b"public page"
    assert calls == ["feed.test"]
    method, path, headers, _ = outer.requests[-1]
    assert headers["host"] == f"feed.test:{outer.port}"  # Host keeps the name, not the address


def test_any_private_answer_blocks_the_name(outer: RawServer) -> None:
    def mixed(host: str, port: int, *args: object) -> list:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.2", port)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port))]

    gate = Gate(GUARDED, policy=AddressPolicy(exempt=("127.0.0.2/32",), resolver=mixed))
    with pytest.raises(BlockedAddressError, match="10.0.0.7"):
        gate.fetch(f"http://mixed.test:{outer.port}/ok", max_bytes=1024)
    with pytest.raises(BlockedAddressError):
        gate.check_url(f"http://mixed.test:{outer.port}/ok")


def test_unresolvable_name_is_transient() -> None:
    with pytest.raises(FetchError) as caught:
        fetch("http://no-such-host.invalid/feed", settings=GUARDED, max_bytes=1024)
    assert not caught.value.permanent
    assert not isinstance(caught.value, BlockedAddressError)


@pytest.mark.parametrize("spelling", ["2130706433", "0x7f.1", "0177.0.0.1", "127.1", "0x7f000001"])
def test_guard_itself_sees_through_numeric_spellings(spelling: str) -> None:
    """The URL rules refuse these first; the resolver-level check would catch them anyway."""
    with pytest.raises(BlockedAddressError, match="127.0.0.1"):
        resolve_checked(spelling, 80, policy=AddressPolicy(), timeout=2)


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RawServer, list]]:
    """An HTTPS server on 127.0.0.2 with a self-signed certificate for feed.test."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl command not found")
    cert, key = self_signed(tmp_path_factory.mktemp("tls"), "feed.test")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    names: list = []
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    server = RawServer("127.0.0.2", tls=context)
    server.routes["/ok"] = lambda r: reply(r, 200, b"secret over tls")
    yield server, names
    server.close()


def test_tls_uses_the_hostname_for_sni_and_verification(tls_server: tuple) -> None:
    """Connected to the checked IP, TLS still names and verifies feed.test (self-signed: fails)."""
    server, names = tls_server

    def to_test_server(host: str, port: int, *args: object) -> list:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.2", port))]

    gate = Gate(GUARDED, policy=AddressPolicy(exempt=("127.0.0.2/32",), resolver=to_test_server))
    with pytest.raises(FetchError) as caught:
        gate.fetch(f"https://feed.test:{server.port}/ok", max_bytes=1024)
    assert "certificate verify failed" in str(caught.value).lower()
    assert names == ["feed.test"]
    assert server.requests == []


@settings(max_examples=300, deadline=None)
@given(st.one_of(
    st.text(max_size=60),
    st.builds(lambda a, b: f"http://{a}/{b}", st.text(max_size=30), st.text(max_size=10)),
    st.builds(lambda a: f"https://{a}", st.text(alphabet="0123456789abcdefx.:[]%@\\", max_size=25)),
))
def test_url_rules_only_ever_raise_fetch_error(url: str) -> None:
    from wirewatch.net.urls import parse_url

    try:
        parsed = parse_url(url)
    except FetchError as error:
        assert error.permanent
    else:
        assert parsed.scheme in ("http", "https") and parsed.host
    assert isinstance(host_key(url), str)
