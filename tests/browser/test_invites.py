"""Invite links of private tables in a real browser (issues 15 and 16): the creator sees the "Private"
badge and the link with a Copy button at once (no reload); an invited person who opens the link watches
and takes a free seat; someone with the bare table address is refused as if there were no such table."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit


def test_create_private_copy_the_link_and_the_invited_person_watches_and_sits(person, stack) -> None:
    host = person("host")
    host.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.frontend_url)
    table = host.create_table("crazy_eights", seats=3, public=False)
    page = host.page
    page.wait_for_selector("#private-badge")
    page.wait_for_selector("#invite-link")
    page.click("#copy-invite")
    page.wait_for_selector("#copy-invite:has-text('Copied')")
    link = page.evaluate("navigator.clipboard.readText()")
    assert link == page.input_value("#invite-link")
    parts = urlsplit(link)
    assert parts.path == f"/table/{table}" and len(parse_qs(parts.query)["invite"][0]) >= 22, link

    guest = person("guest")
    guest.page.goto(link)
    guest.page.wait_for_selector("#table-view:not([hidden])[data-role=spectator][data-status=waiting]")
    assert guest.page.locator("#private-badge").count() == 1
    assert guest.page.locator("#invite-link").count() == 0, "only the creator is shown the code"
    guest.page.click(".sit[data-seat='1']")
    guest.page.wait_for_selector("#table-view[data-role=player][data-seat='1']")
    page.wait_for_function("name => document.querySelector('#felt').textContent.includes(name)",
                           arg=guest.name)  # the host sees the guest sit down

    stranger = person("stranger")
    stranger.page.goto(stranger.url(f"/table/{table}"))
    stranger.page.wait_for_selector("#lobby-view:not([hidden])")
    stranger.page.wait_for_selector(f".toast:has-text('no table {table}')")
    assert stranger.page.locator(stranger.lobby_row(table)).count() == 0
    for who in (host, guest, stranger):
        assert who.errors == [], who.errors
