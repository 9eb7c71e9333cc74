"""common.tokens: round trip, expiry, tampering, rotation, malformed input; all with an injected clock."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from common import tokens
from common.protocol import E_TOKEN_EXPIRED, E_TOKEN_INVALID, ProtocolError
from common.tokens import Claims, TokenError, issue, verify

NOW = 1_700_000_000.0
KEYS = {"k2": "new secret", "k1": "old secret"}
NONCE = bytes(range(12))


def make(keys: dict[str, str] | None = None, *, now: float = NOW, ttl: float = 600.0, **kw: Any) -> str:
    return issue({"uid": 42, "name": "alice"}, keys or KEYS, now=now, ttl=ttl, **kw)


def raw(token: str) -> bytearray:
    return bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))


def pack(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def invalid(token: object, keys: dict[str, str] = KEYS, now: float = NOW) -> TokenError:
    with pytest.raises(TokenError) as info:
        verify(token, keys, now=now)  # type: ignore[arg-type]
    assert info.value.code == E_TOKEN_INVALID, info.value.text
    return info.value


def test_round_trip() -> None:
    token = make(jti="j1")
    claims = verify(token, KEYS, now=NOW + 1)
    assert claims == Claims(user_id=42, name="alice", issued=NOW, expires=NOW + 600, key_id="k2", jti="j1")


def test_token_is_url_safe_without_padding() -> None:
    token = make()
    assert "=" not in token and "+" not in token and "/" not in token


def test_layout_and_associated_data() -> None:
    data = raw(make(nonce=NONCE))
    assert data[0] == tokens.VERSION
    assert data[1] == 2 and data[2:4] == b"k2"
    assert data[4:16] == NONCE


def test_injected_nonce_is_deterministic_and_random_nonces_differ() -> None:
    assert make(nonce=NONCE, jti="x") == make(nonce=NONCE, jti="x")
    assert make() != make()


def test_unicode_names_survive() -> None:
    token = issue({"uid": 1, "name": "Zoë 🂡"}, KEYS, now=NOW, ttl=60)
    assert verify(token, KEYS, now=NOW).name == "Zoë 🂡"


def test_random_jti() -> None:
    assert verify(make(), KEYS, now=NOW).jti != verify(make(), KEYS, now=NOW).jti


def test_expired() -> None:
    token = make(ttl=60)
    assert verify(token, KEYS, now=NOW + 59.9).user_id == 42
    with pytest.raises(TokenError) as info:
        verify(token, KEYS, now=NOW + 72)
    assert info.value.code == E_TOKEN_EXPIRED
    assert info.value.text.startswith("token expired 12 s ago")


def test_token_error_is_a_protocol_error_and_never_echoes_the_token() -> None:
    token = make(ttl=1)
    with pytest.raises(ProtocolError) as info:
        verify(token, KEYS, now=NOW + 5)
    assert token not in str(info.value) and token not in info.value.text


def test_issued_slightly_in_the_future_is_tolerated() -> None:
    assert verify(make(now=NOW + 5), KEYS, now=NOW).user_id == 42


def test_issued_in_the_future_beyond_skew_is_invalid() -> None:
    err = invalid(make(now=NOW + tokens.MAX_SKEW + 60), now=NOW)
    assert "not valid yet" in err.text


@pytest.mark.parametrize("region", ["version", "kid_length", "kid", "nonce", "ciphertext", "tag"])
def test_tampered(region: str) -> None:
    token = make()
    data = raw(token)
    kid_end = 2 + data[1]
    index = {
        "version": 0,
        "kid_length": 1,
        "kid": 2,
        "nonce": kid_end + 3,
        "ciphertext": kid_end + tokens.NONCE_BYTES + 5,
        "tag": len(data) - 1,
    }[region]
    for bit in (0x01, 0x80):
        data = raw(token)
        data[index] ^= bit
        err = invalid(pack(bytes(data)))
        assert token not in err.text


def test_truncated_and_extended() -> None:
    token = make()
    data = raw(token)
    for cut in (1, 2, 5, 17, len(data) - 1):
        invalid(pack(bytes(data[:cut])))
    invalid(pack(bytes(data) + b"\0"))
    invalid(token[:-1])


def test_wrong_key() -> None:
    token = make({"k2": "some other secret"})
    err = invalid(token)
    assert "authentication" in err.text


def test_rotation() -> None:
    old = make({"k1": "old secret"})
    assert verify(old, KEYS, now=NOW).key_id == "k1"  # still listed after k2 became current
    new = make(KEYS)
    assert verify(new, KEYS, now=NOW).key_id == "k2"
    err = invalid(old, keys={"k2": "new secret"})  # k1 retired
    assert "unknown key" in err.text


def test_unknown_kid() -> None:
    err = invalid(make({"k9": "old secret"}))
    assert "unknown key" in err.text
    assert "k9" not in err.text


@pytest.mark.parametrize("garbage", [
    "", " ", "a", "abc", "====", "!!!!", "a.b.c", "eyJhbGciOiJIUzI1NiJ9", "AAAA", "AQJrMQ",
    "токен", "\u00e9\u00e9\u00e9\u00e9", "\x00\x00\x00\x00", "A" * 10_000, "AQ" + "A" * 100,
    "A+B/C===",
])
def test_garbage(garbage: str) -> None:
    err = invalid(garbage)
    assert err.text and (len(garbage) < 5 or garbage not in err.text)


@pytest.mark.parametrize("value", [None, 12, b"bytes", ["list"], {"token": 1}])
def test_not_a_string(value: object) -> None:
    invalid(value)


def test_wrong_purpose() -> None:
    token = make(purpose="admin")
    invalid(token)
    assert verify(token, KEYS, now=NOW, purpose="admin").user_id == 42


def seal(plaintext: bytes, kid: str = "k2", purpose: str = "realtime") -> str:
    """A correctly encrypted token around arbitrary plaintext (what a key holder could produce)."""
    from Crypto.Cipher import AES

    header = bytes((tokens.VERSION, len(kid))) + kid.encode()
    cipher = AES.new(tokens._derive(KEYS[kid], kid, purpose), AES.MODE_GCM, nonce=NONCE)
    cipher.update(header)
    ciphertext, tag = cipher.encrypt_and_digest(plaintext)
    return pack(header + NONCE + ciphertext + tag)


def body(**changes: object) -> bytes:
    fields: dict[str, object] = {"uid": 7, "name": "bob", "iat": NOW, "exp": NOW + 60,
                                 "purpose": "realtime", "jti": "j"}
    fields.update(changes)
    return json.dumps({k: v for k, v in fields.items() if v is not ...}).encode()


def test_seal_helper_matches_issue() -> None:
    assert verify(seal(body()), KEYS, now=NOW).user_id == 7


@pytest.mark.parametrize("plaintext", [
    b"", b"not json", b"\xff\xfe", b"[1, 2]", b"null", b"[" * 100_000,
    body(uid=...), body(name=...), body(exp=...), body(iat=...), body(purpose=...), body(jti=...),
    body(uid="7"), body(uid=True), body(name=5), body(exp="soon"), body(iat=None), body(jti=3),
    body(purpose="admin"), body(exp=NOW - 10),
])
def test_malformed_content(plaintext: bytes) -> None:
    invalid(seal(plaintext))


def test_config_mistakes_are_value_errors() -> None:
    with pytest.raises(ValueError):
        issue({"uid": 1, "name": "a"}, {}, now=NOW, ttl=1)
    with pytest.raises(ValueError):
        issue({"uid": "1", "name": "a"}, KEYS, now=NOW, ttl=1)
    with pytest.raises(ValueError):
        issue({"uid": 1, "name": "a"}, KEYS, now=NOW, ttl=0)
    with pytest.raises(ValueError):
        issue({"uid": 1, "name": "a"}, KEYS, now=NOW, ttl=1, nonce=b"short")
    with pytest.raises(ValueError):
        issue({"uid": 1, "name": "a"}, {"ключ": "s"}, now=NOW, ttl=1)
