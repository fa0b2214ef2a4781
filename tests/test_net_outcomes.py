"""Pure helpers of the gate: outcome mapping, Retry-After, cache lifetime, host keys, decoding."""

from __future__ import annotations

import gzip
import http.client
import ssl
import zlib
from email.utils import formatdate

import brotli
import httpx
import pytest

from wirewatch.errors import FetchError
from wirewatch.net import cache_lifetime, host_key, outcome_error, parse_retry_after
from wirewatch.net.decode import BodyDecoder, DecodeError
from wirewatch.net.transport import ProtocolError

NOW = 1_700_000_000.0


def http_date(ts: float) -> str:
    return formatdate(ts, usegmt=True)


@pytest.mark.parametrize(
    ("status", "permanent"),
    [(400, True), (401, True), (403, True), (404, True), (410, True), (418, True),
     (451, True), (300, True), (408, False), (425, False), (429, False), (500, False),
     (502, False), (503, False), (504, False), (599, False)],
)
def test_status_is_transient_or_permanent(status: int, permanent: bool) -> None:
    error = outcome_error("http://x.example/", status=status, headers=httpx.Headers())
    assert isinstance(error, FetchError)
    assert (error.permanent, error.status) == (permanent, status)


@pytest.mark.parametrize("status", [200, 201, 204, 206, 304])
def test_success_statuses_are_not_errors(status: int) -> None:
    assert outcome_error("http://x.example/", status=status) is None


@pytest.mark.parametrize(
    ("exc", "permanent", "says"),
    [(TimeoutError("timed out"), False, "request timed out: timed out"),
     (ConnectionRefusedError(111, "Connection refused"), False, "Connection refused"),
     (ConnectionResetError(104, "Connection reset by peer"), False, "reset"),
     (ssl.SSLCertVerificationError("certificate verify failed"), False, "verify failed"),
     (http.client.RemoteDisconnected("closed unanswered"), False, "failed: closed unanswered"),
     (http.client.BadStatusLine("GARBAGE\r\n"), False, "status line 'GARBAGE'"),
     (http.client.LineTooLong("header line"), False, "header line"),
     (http.client.IncompleteRead(b""), False, "chunked body malformed or cut short"),
     (ProtocolError("invalid Content-Length"), False, "invalid Content-Length"),
     (DecodeError("bad gzip"), False, "bad gzip"),
     (FetchError("x", permanent=True), True, "x"),
     (ValueError("unforeseen"), True, "unforeseen")],
)
def test_exceptions_map_once(exc: BaseException, permanent: bool, says: str) -> None:
    error = outcome_error("http://x.example/", exc=exc)
    assert error is not None and error.permanent is permanent
    assert says in str(error)


def test_retry_after_on_429_and_503_is_parsed_and_capped() -> None:
    headers = httpx.Headers({"Retry-After": "120"})
    assert outcome_error("u", status=429, headers=headers).retry_after == 120
    assert outcome_error("u", status=503, headers=headers, retry_after_cap=60).retry_after == 60
    later = httpx.Headers({"Retry-After": http_date(NOW + 300)})
    assert outcome_error("u", status=503, headers=later, now=NOW).retry_after == 300
    assert outcome_error("u", status=500, headers=headers).retry_after is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("", None), ("0", 0.0), ("3600", 3600.0), (" 7 ", 7.0), ("-5", None),
     ("1.5", None), ("soon", None), (http_date(NOW + 90), 90.0), (http_date(NOW - 90), 0.0),
     ("Sun, 06 Nov 1994 08:49:37 GMT", 0.0)],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"Cache-Control": "max-age=600"}, 600.0),
        ({"Cache-Control": "public, max-age=600, s-maxage=60"}, 60.0),
        ({"Cache-Control": 'max-age="300"'}, 300.0),
        ({"Cache-Control": "max-age=600", "Age": "100"}, 500.0),
        ({"Cache-Control": "max-age=60", "Age": "100"}, 0.0),
        ({"Cache-Control": "no-store, max-age=600"}, None),
        ({"Cache-Control": "No-Cache"}, None),
        ({"Cache-Control": "max-age=oops"}, None),
        ({"Expires": http_date(NOW + 1800), "Date": http_date(NOW)}, 1800.0),
        ({"Expires": http_date(NOW + 1800)}, 1800.0),
        ({"Expires": http_date(NOW - 10), "Date": http_date(NOW)}, 0.0),
        ({"Expires": "0"}, 0.0),
        ({"Cache-Control": "max-age=5", "Expires": http_date(NOW + 1800)}, 5.0),
    ],
)
def test_cache_lifetime(headers: dict[str, str], expected: float | None) -> None:
    assert cache_lifetime(headers, now=NOW) == expected
    assert cache_lifetime(httpx.Headers(headers), now=NOW) == expected


@pytest.mark.parametrize(
    ("url", "key"),
    [("http://Example.COM/feed", "example.com"), ("https://example.com:443/", "example.com"),
     ("http://example.com:80/x", "example.com"), ("http://example.com:8080/", "example.com:8080"),
     ("https://[2001:DB8::1]:8443/", "[2001:db8::1]:8443"),
     ("http://bücher.de/", "xn--bcher-kva.de")],
)
def test_host_key(url: str, key: str) -> None:
    assert host_key(url) == key


@pytest.mark.parametrize(
    ("url", "key"),
    [("ftp://Files.example.com/x", "files.example.com"), ("http://evil@127.0.0.1/", "127.0.0.1"),
     ("not a url", "invalid-url"), ("", "invalid-url"), ("http://[::1/", "invalid-url")],
)
def test_host_key_never_raises(url: str, key: str) -> None:
    assert host_key(url) == key


def _decode(encoding: str, data: bytes) -> bytes:
    decoder = BodyDecoder(encoding)
    out = b"".join(decoder.feed(data[:7])) + b"".join(decoder.feed(data[7:]))
    return out + b"".join(decoder.finish())


def test_decoders_round_trip() -> None:
    text = b"wire copy " * 5000
    raw_deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
    assert _decode("gzip", gzip.compress(text)) == text
    assert _decode("x-gzip", gzip.compress(text)) == text
    assert _decode("gzip", gzip.compress(text[:10]) + gzip.compress(text[10:])) == text
    assert _decode("deflate", zlib.compress(text)) == text
    assert _decode("deflate", raw_deflate.compress(text) + raw_deflate.flush()) == text
    assert _decode("br", brotli.compress(text)) == text
    assert _decode("gzip, br", brotli.compress(gzip.compress(text))) == text
    assert _decode("identity", text) == text
    assert _decode("gzip", gzip.compress(text) + b"\0\0 trailing junk") == text
    assert _decode("deflate", zlib.compress(text) + b"junk") == text
    truncated = _decode("gzip", gzip.compress(text)[:-20])
    assert truncated and text.startswith(truncated)


def test_decoder_yields_small_pieces_from_a_bomb() -> None:
    bomb = brotli.compress(b"\0" * (32 << 20), quality=5)
    pieces = BodyDecoder("br").feed(bomb)
    first = [len(next(pieces)) for _ in range(3)]
    assert max(first) <= 512 * 1024


def test_bad_encodings() -> None:
    with pytest.raises(FetchError) as caught:
        BodyDecoder("compress")
    assert caught.value.permanent
    with pytest.raises(DecodeError):
        list(BodyDecoder("gzip").feed(b"this is not gzip at all"))
    with pytest.raises(DecodeError):
        list(BodyDecoder("br").feed(b"\xff" * 64))
