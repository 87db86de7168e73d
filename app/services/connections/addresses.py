"""Host parsing, resolution and the private-address policy for data source hosts."""

from __future__ import annotations

import ipaddress
import re
import socket

from app.core.errors import Unprocessable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_HOSTNAME = re.compile(r"^[A-Za-z0-9_-]{1,63}(\.[A-Za-z0-9_-]{1,63})*\.?$")

# Ranges refused regardless of what this Python's ipaddress flags say (they changed between 3.11 patch releases).
_V4_REFUSED = [
    (ipaddress.ip_network(net), label)
    for net, label in [
        ("0.0.0.0/8", "unspecified / this network"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "carrier-grade NAT"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "IETF protocol assignment"),
        ("192.0.2.0/24", "documentation"),
        ("192.88.99.0/24", "6to4 relay"),
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),
    ]
]
_V6_REFUSED = [
    (ipaddress.ip_network(net), label)
    for net, label in [
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("64:ff9b:1::/48", "local-use NAT64"),
        ("100::/64", "discard-only"),
        ("2001:db8::/32", "documentation"),
        ("2001:10::/28", "ORCHID"),
        ("2001:20::/28", "ORCHIDv2"),
        ("fc00::/7", "unique local"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local"),
        ("ff00::/8", "multicast"),
    ]
]
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_V4_COMPATIBLE = ipaddress.ip_network("::/96")
_V4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address a numeric host spells, in any form the C resolver accepts (0x7f000001, 127.1, 017700000001)."""
    text = host.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return _parse_inet_aton(text) if ":" not in text else None
    if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
        ip = ipaddress.IPv6Address(text.split("%", 1)[0])
    return ip


def _parse_inet_aton(text: str) -> ipaddress.IPv4Address | None:
    """inet_aton(3): 1 to 4 parts, each decimal, octal (leading 0) or hex (0x); the last part fills the rest."""
    parts = text.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    numbers = []
    for part in parts:
        lowered = part.lower()
        if lowered.startswith("0x"):
            digits, base = lowered[2:], 16
        elif len(part) > 1 and part.startswith("0"):
            digits, base = part[1:], 8
        else:
            digits, base = part, 10
        if not digits or not all(ch in "0123456789abcdef"[:base] for ch in digits):
            return None
        numbers.append(int(digits, base))
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (4 - len(head)):
        return None
    value = last
    for index, number in enumerate(head):
        value |= number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def is_valid_host(host: str) -> bool:
    """A DNS name or an IP literal; anything else (paths, '@', spaces, commas) is not a host."""
    if len(host) > 253:
        return False
    return bool(_HOSTNAME.match(host)) or parse_ip_literal(host) is not None


def _refusal_v4(ip: ipaddress.IPv4Address) -> str | None:
    for network, label in _V4_REFUSED:
        if ip in network:
            return label
    if ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast or ip.is_reserved:
        return "non-public"
    return None if ip.is_global else "non-public"


def _embedded_v4(ip: ipaddress.IPv6Address) -> tuple[str, list[ipaddress.IPv4Address]] | None:
    """IPv6 forms that carry an IPv4 address the packets may end up at."""
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.ipv4_mapped is not None:
        return "IPv4-mapped", [ip.ipv4_mapped]
    if ip in _NAT64:
        return "NAT64", [low32]
    if ip in _V4_TRANSLATED:
        return "IPv4-translated", [low32]
    if ip.sixtofour is not None:
        return "6to4", [ip.sixtofour]
    if ip.teredo is not None:
        return "Teredo", list(ip.teredo)
    if ip in _V4_COMPATIBLE and int(ip) > 1:
        return "IPv4-compatible", [low32]
    return None


def refusal_reason(ip: IPAddress) -> str | None:
    """Why this address is not a public data source address, or None when it is public."""
    if isinstance(ip, ipaddress.IPv4Address):
        return _refusal_v4(ip)
    embedded = _embedded_v4(ip)
    if embedded is not None:
        kind, addresses = embedded
        for address in addresses:
            reason = _refusal_v4(address)
            if reason:
                return f"{kind} form of {address}, {reason}"
        return None
    for network, label in _V6_REFUSED:
        if ip in network:
            return label
    if ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast or ip.is_reserved or ip.is_site_local:
        return "non-public"
    return None if ip.is_global else "non-public"


def is_loopback_like(ip: IPAddress) -> bool:
    """Loopback, or unspecified (connecting to 0.0.0.0 or :: reaches this machine on Linux)."""
    mapped = getattr(ip, "ipv4_mapped", None)
    ip = mapped or ip
    return ip.is_loopback or ip.is_unspecified or (isinstance(ip, ipaddress.IPv4Address) and ip in _THIS_NETWORK)


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the host stands for: numeric spellings parsed here, names through getaddrinfo (v4 and v6)."""
    literal = parse_ip_literal(host)
    if literal is not None:
        return [literal]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        infos = []
    addresses: list[IPAddress] = []
    for family, _type, _proto, _canon, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise Unprocessable(f"Host '{host}' could not be resolved", code="host_unresolvable")
    return addresses


def pick_address(addresses: list[IPAddress]) -> IPAddress:
    """The address to connect to: the first IPv4 one (many containers have no IPv6 route), else the first."""
    chosen = next((ip for ip in addresses if ip.version == 4), addresses[0])
    return getattr(chosen, "ipv4_mapped", None) or chosen
