"""Private-network guard: resolve a host once and refuse it if ANY address is not public."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

from wirewatch.errors import BlockedAddressError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[..., list]

# Listed explicitly (defence in depth); anything else that `ipaddress` does not call global is
# refused too.
_BLOCKED_NETWORKS = [
    (ipaddress.ip_network(net), why)
    for net, why in [
        ("0.0.0.0/8", "'this network' address"),
        ("10.0.0.0/8", "private (RFC 1918) address"),
        ("100.64.0.0/10", "carrier-grade NAT address"),
        ("127.0.0.0/8", "loopback address"),
        ("169.254.0.0/16", "link-local address (cloud metadata)"),
        ("172.16.0.0/12", "private (RFC 1918) address"),
        ("192.0.0.0/24", "IETF protocol address"),
        ("192.168.0.0/16", "private (RFC 1918) address"),
        ("198.18.0.0/15", "benchmarking address"),
        ("224.0.0.0/4", "multicast address"),
        ("240.0.0.0/4", "reserved address"),
        ("255.255.255.255/32", "broadcast address"),
        ("::/128", "unspecified address"),
        ("::1/128", "loopback address"),
        ("::/96", "IPv4-compatible address"),
        ("100::/64", "discard-only address"),
        ("2001::/32", "Teredo address"),
        ("2001:db8::/32", "documentation address"),
        ("64:ff9b:1::/48", "local-use NAT64 address"),
        ("fc00::/7", "unique-local address"),
        ("fe80::/10", "link-local address"),
        ("fec0::/10", "site-local address"),
        ("ff00::/8", "multicast address"),
    ]
]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def blocked_reason(address: IPAddress) -> str | None:
    """Why `address` must not be contacted, or None for a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        address = ipaddress.IPv6Address(address.packed)  # drop any %scope
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(address.packed[-4:])
        if embedded is not None:
            inner = blocked_reason(embedded)
            return f"{inner} inside {address}" if inner else None
    for network, why in _BLOCKED_NETWORKS:
        if address.version == network.version and address in network:
            return why
    if not address.is_global:
        return "non-public address"
    return None


@dataclass(frozen=True)
class AddressPolicy:
    """Which resolved addresses may be contacted.

    `exempt` and `resolver` exist for tests only (e.g. a test server on 127.0.0.2 while the guard
    stays on for every other address); production code builds the policy from Settings alone.
    """

    allow_private: bool = False
    exempt: tuple[str, ...] = ()
    resolver: Resolver = field(default=socket.getaddrinfo, compare=True)

    def reason(self, address: IPAddress) -> str | None:
        if self.allow_private:
            return None
        bare = ipaddress.ip_address(address.packed)
        if any(bare in ipaddress.ip_network(net) for net in self.exempt):
            return None
        return blocked_reason(bare)


def _dns_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=8, thread_name_prefix="wirewatch-dns")


def _renew_dns_pool() -> None:
    """A forked child has none of its parent's pool threads: lookups would wait forever."""
    global _dns
    _dns = _dns_pool()


_dns = _dns_pool()
os.register_at_fork(after_in_child=_renew_dns_pool)


def resolve_checked(
    host: str, port: int, *, policy: AddressPolicy, timeout: float | None
) -> list[tuple[int, str]]:
    """Resolve `host` and return `(family, ip)` pairs to connect to, all of them allowed.

    Raises BlockedAddressError if any address is refused, socket.gaierror if resolution fails,
    TimeoutError if it takes longer than `timeout`.
    """
    name = host.rstrip(".").lower()
    if not policy.allow_private and (name == "localhost" or name.endswith(".localhost")):
        raise BlockedAddressError(f"refused {host}: localhost names always mean loopback")
    future = _dns.submit(policy.resolver, host, port, 0, socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=timeout)
    except FutureTimeout:
        future.cancel()
        raise TimeoutError(f"resolving {host} took longer than {timeout:.1f}s") from None
    pairs: list[tuple[int, str]] = []
    for family, _type, _proto, _canon, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        ip_text = str(sockaddr[0])
        address = ipaddress.ip_address(ip_text.split("%", 1)[0])
        why = policy.reason(address)
        if why:
            raise BlockedAddressError(f"refused {host}: resolves to {address}, a {why}")
        if (family, ip_text) not in pairs:
            pairs.append((family, ip_text))
    if not pairs:
        raise socket.gaierror(socket.EAI_NONAME, f"no IPv4/IPv6 address for {host}")
    return pairs
