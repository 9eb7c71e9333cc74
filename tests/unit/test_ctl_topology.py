"""`scripts/ctl add`'s choice of address: a new game server binds where this host's configured ones do."""

from __future__ import annotations

import socket

from scripts.ctl_topology import gameserver_host, port_free


def test_a_new_game_server_binds_the_configured_private_address_not_loopback() -> None:
    assert gameserver_host({"g1": "tcp://10.0.1.2:5601", "g2": "tcp://10.0.1.2:5602"}) == "10.0.1.2"
    assert gameserver_host({"g1": "tcp://[fd00::2]:5601"}) == "fd00::2"
    assert gameserver_host({"g1": "ipc:///tmp/g1"}) == "127.0.0.1"
    assert gameserver_host({}) == "127.0.0.1"


def test_a_port_is_checked_on_the_address_it_will_be_bound_to() -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.2", 0))
        port = held.getsockname()[1]
        assert not port_free(port, "127.0.0.2")
        assert port_free(port, "127.0.0.3"), "held on another address only"
