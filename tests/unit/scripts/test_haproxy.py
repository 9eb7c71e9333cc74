"""haproxy's configuration (scripts/haproxy_config.py) and the follower's plan (scripts/haproxy.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from scripts.haproxy import Current, haproxy_binary, plan, servers_state
from scripts.haproxy_config import DRAIN, READY, Backend, render, server_id, server_ids

HEADER = ("# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight "
          "srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state "
          "srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl "
          "srv_check_port srv_check_addr srv_agent_addr srv_agent_port")
STATE = f"""1
{HEADER}
4 realtime 77 rt8101 127.0.0.1 2 0 1 1 0 8 2 0 6 0 0 1 - 8101 - 0 0 - - 0
4 realtime 99 rt8102 127.0.0.1 0 8 1 1 0 1 0 2 6 0 0 1 - 8102 - 0 0 - - 0
"""


def test_servers_state_is_read_from_haproxys_table() -> None:
    assert servers_state(STATE) == {
        "rt8101": Current("rt8101", 77, "127.0.0.1", 8101, 0, True),
        "rt8102": Current("rt8102", 99, "127.0.0.1", 8102, 8, False),
    }
    assert servers_state(STATE)["rt8102"].state == DRAIN


def test_the_plan_adds_drains_readies_moves_and_removes() -> None:
    current = servers_state(STATE)
    same = [Backend("rt8101", "127.0.0.1", 8101), Backend("rt8102", "127.0.0.1", 8102, DRAIN)]
    assert plan(current, same) == []
    assert plan(current, [Backend("rt8101", "127.0.0.1", 8101, DRAIN),
                          Backend("rt8102", "127.0.0.1", 8102, READY),
                          Backend("rt8103", "127.0.0.1", 8103)], check_interval=0.5) == [
        "set server realtime/rt8101 state drain",
        "set server realtime/rt8102 state ready",
        f"add server realtime/rt8103 127.0.0.1:8103 id {server_id('rt8103')} check inter 500ms fall 2 rise 2",
        "enable health realtime/rt8103",
        "set server realtime/rt8103 state ready",
    ]
    # rt8101 came back elsewhere; rt8102 is gone
    assert plan(current, [Backend("rt8101", "10.0.0.5", 8101)]) == [
        "set server realtime/rt8101 state maint",
        "set server realtime/rt8101 addr 10.0.0.5 port 8101",
        "set server realtime/rt8101 state ready",
        "set server realtime/rt8102 state maint",
        "shutdown sessions server realtime/rt8102",
        "del server realtime/rt8102",
    ]


def test_ids_come_from_names_and_never_clash() -> None:
    assert server_ids(["rt8101", "rt8102"]) == {"rt8101": server_id("rt8101"), "rt8102": server_id("rt8102")}
    taken = {Current("other", server_id("rt8103"), "127.0.0.1", 1, 0, True).name:
             Current("other", server_id("rt8103"), "127.0.0.1", 1, 0, True)}
    commands = plan(taken, [Backend("other", "127.0.0.1", 1), Backend("rt8103", "127.0.0.1", 8103)])
    assert f"id {server_id('rt8103') + 1} " in commands[0]


def test_the_configuration_routes_by_path_and_hashes_the_session(tmp_path: Path) -> None:
    text = render(bind="127.0.0.1:8000", frontends=[Backend("web1", "127.0.0.1", 8090)],
                  realtime=[Backend("rt8101", "127.0.0.1", 8101), Backend("rt8102", "::1", 8102)],
                  admin_socket=str(tmp_path / "admin.sock"))
    assert "bind 127.0.0.1:8000" in text and "use_backend realtime if sockjs" in text
    assert "balance hash path,field(4,/)" in text and "hash-type consistent" in text
    assert "server rt8102 [::1]:8102" in text and "timeout tunnel 1h" in text
    with pytest.raises(ValueError, match="at least one frontend"):
        render(bind="127.0.0.1:8000", frontends=[], realtime=[], admin_socket="x")
    binary = haproxy_binary()
    if binary is None:
        pytest.skip("haproxy is not installed: its own check of the configuration is skipped")
    (tmp_path / "haproxy.cfg").write_text(text)
    check = subprocess.run([binary, "-c", "-f", str(tmp_path / "haproxy.cfg")], capture_output=True,
                           text=True)
    assert check.returncode == 0, check.stdout + check.stderr
