"""Bounded content decoding: gzip, deflate and brotli bodies inflate in small steps, never at once.

httpx's own decoders inflate each network chunk in one call, so a 64 KiB brotli chunk can become
gigabytes before any cap is checked. These decoders yield at most STEP bytes at a time, and the
caller stops pulling at its cap, so memory stays bounded by the cap plus one step.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import brotli

from wirewatch.errors import FetchError

STEP = 256 * 1024
ACCEPT_ENCODING = "gzip, deflate, br"


class DecodeError(Exception):
    """The body does not match its Content-Encoding."""


class _Identity:
    def feed(self, data: bytes) -> Iterator[bytes]:
        if data:
            yield data

    def finish(self) -> Iterator[bytes]:
        return iter(())


class _Zlib:
    """gzip (concatenated members too) or deflate (zlib-wrapped, or raw as some servers send).

    Bytes after the last complete stream are ignored, as browsers do.
    """

    def __init__(self, gzip: bool) -> None:
        self._gzip = gzip
        self._wbits = 16 + zlib.MAX_WBITS if gzip else zlib.MAX_WBITS
        self._d = zlib.decompressobj(self._wbits)
        self._started = False  # some output or header accepted by the current stream
        self._members = 0  # complete streams seen
        self._done = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        name = "gzip" if self._gzip else "deflate"
        while data and not self._done:
            if self._d.eof:
                if not self._gzip:
                    self._done = True
                    break
                self._d, self._started = zlib.decompressobj(self._wbits), False
            try:
                out = self._d.decompress(data, STEP)
            except zlib.error as exc:
                if self._members and not self._started:  # trailing bytes, not another member
                    self._done = True
                    break
                if self._gzip or self._started or self._wbits < 0:
                    raise DecodeError(f"bad {name} data: {exc}") from None
                self._wbits = -zlib.MAX_WBITS  # raw deflate without the zlib wrapper
                self._d = zlib.decompressobj(self._wbits)
                continue
            self._started = True
            if self._d.eof:
                self._members += 1
                data = self._d.unused_data
            else:
                data = self._d.unconsumed_tail
            if out:
                yield out

    def finish(self) -> Iterator[bytes]:
        if self._done or self._d.eof:
            return
        try:
            out = self._d.flush()
        except zlib.error as exc:
            raise DecodeError(str(exc)) from None
        if out:
            yield out


class _Brotli:
    def __init__(self) -> None:
        self._d = brotli.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        try:
            out = self._d.process(data, output_buffer_limit=STEP)
            if out:
                yield out
            while not self._d.can_accept_more_data():
                out = self._d.process(b"", output_buffer_limit=STEP)
                if out:
                    yield out
        except brotli.error as exc:
            raise DecodeError(f"bad brotli data: {exc}") from None

    def finish(self) -> Iterator[bytes]:
        return iter(())


_DECODERS = {
    "gzip": lambda: _Zlib(gzip=True),
    "x-gzip": lambda: _Zlib(gzip=True),
    "deflate": lambda: _Zlib(gzip=False),
    "br": _Brotli,
    "identity": _Identity,
}


class BodyDecoder:
    """Decodes a Content-Encoding chain (applied left to right, so undone right to left)."""

    def __init__(self, content_encoding: str | None) -> None:
        names = [n.strip().lower() for n in (content_encoding or "").split(",") if n.strip()]
        unknown = [n for n in names if n not in _DECODERS]
        if unknown:
            raise FetchError(f"unsupported Content-Encoding {', '.join(unknown)}", permanent=True)
        self._stages = [_DECODERS[n]() for n in reversed(names) if n != "identity"]

    def feed(self, data: bytes) -> Iterator[bytes]:
        return self._through(0, data)

    def finish(self) -> Iterator[bytes]:
        yield from self._finish(0)

    def _through(self, index: int, data: bytes) -> Iterator[bytes]:
        if index == len(self._stages):
            if data:
                yield data
            return
        for piece in self._stages[index].feed(data):
            yield from self._through(index + 1, piece)

    def _finish(self, index: int) -> Iterator[bytes]:
        if index == len(self._stages):
            return
        for piece in self._stages[index].finish():
            yield from self._through(index + 1, piece)
        yield from self._finish(index + 1)
