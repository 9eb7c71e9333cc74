"""Whose address a request is from: the peer, unless a trusted proxy in front names the client."""

from __future__ import annotations

import pytest

from common.config import load
from common.proxies import TrustedProxies

HAPROXY = TrustedProxies.of(["127.0.0.1", "10.0.0.0/24"])


def test_nobody_is_trusted_by_default() -> None:
    trusted = TrustedProxies.of(load(env={"FELT_CONFIG": ""}).trusted_proxies)
    assert not trusted
    assert trusted.client_address("127.0.0.1", "203.0.113.77", "203.0.113.77") == "127.0.0.1"


@pytest.mark.parametrize(("peer", "forwarded_for", "real_ip", "client"), [
    # an untrusted peer's claims are ignored, whatever they are
    ("198.51.100.9", "203.0.113.77", None, "198.51.100.9"),
    ("198.51.100.9", None, "203.0.113.77", "198.51.100.9"),
    # a trusted proxy's word is taken
    ("127.0.0.1", "203.0.113.77", None, "203.0.113.77"),
    ("10.0.0.7", "203.0.113.77", None, "203.0.113.77"),
    ("127.0.0.1", None, "203.0.113.77", "203.0.113.77"),
    # the rightmost address no trusted proxy holds: what the client wrote before it proves nothing
    ("127.0.0.1", "6.6.6.6, 203.0.113.77", None, "203.0.113.77"),
    ("127.0.0.1", "6.6.6.6, 203.0.113.77, 10.0.0.3", None, "203.0.113.77"),
    ("127.0.0.1", "not-an-address, 203.0.113.77", None, "203.0.113.77"),
    # X-Forwarded-For wins over X-Real-IP (which haproxy drops from clients)
    ("127.0.0.1", "203.0.113.77", "6.6.6.6", "203.0.113.77"),
    # every hop a proxy: the first is the client
    ("127.0.0.1", "10.0.0.4, 10.0.0.3", None, "10.0.0.4"),
    # a chain broken where it is read, or no header: the peer
    ("127.0.0.1", "203.0.113.77, junk", None, "127.0.0.1"),
    ("127.0.0.1", "", "junk", "127.0.0.1"),
    ("127.0.0.1", None, None, "127.0.0.1"),
    # IPv6, and IPv4 seen through a dual-stack socket
    ("::ffff:127.0.0.1", "2001:db8::5", None, "2001:db8::5"),
    ("127.0.0.1", "[2001:db8::5]:4711", None, "2001:db8::5"),
])
def test_client_address(peer: str, forwarded_for: str | None, real_ip: str | None, client: str) -> None:
    assert HAPROXY.client_address(peer, forwarded_for, real_ip) == client


def test_a_bad_entry_is_refused_when_the_settings_load() -> None:
    with pytest.raises(ValueError, match="FELT_TRUSTED_PROXIES: trusted_proxies: not an IP address"):
        load(env={"FELT_CONFIG": "", "FELT_TRUSTED_PROXIES": "127.0.0.1, haproxy.local"})
    assert load(env={"FELT_CONFIG": "", "FELT_TRUSTED_PROXIES": "127.0.0.1,10.0.0.0/8"}).trusted_proxies == [
        "127.0.0.1", "10.0.0.0/8"]
    with pytest.raises(ValueError, match="realtime_proxy_url: must be an http"):
        load(env={"FELT_CONFIG": "", "FELT_REALTIME_PROXY_URL": "felt.example.com/sockjs"})
