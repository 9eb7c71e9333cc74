"""Realtime access tokens: AES-256-GCM sealed claims, issued by the frontend, checked by the realtime tier.

Owns the token format and nothing else. Pure: no I/O, no environment, the clock comes in as `now`;
randomness (nonce, jti) comes from `secrets` unless a test injects it.

Wire format, base64url without padding::

    version (1 byte) | kid length (1 byte) | kid (ASCII) | nonce (12) | ciphertext | tag (16)

The version byte, the kid length and the kid are authenticated as associated data. The plaintext is
compact JSON ``{"uid", "name", "iat", "exp", "purpose", "jti"}``. Each key id has its own AES key,
derived from its secret with HKDF-SHA256 (salt fixed per purpose, context naming the key id), so a secret
shared with Flask sessions is never used as an AES key directly, and a token minted for one purpose can
not be replayed for another. Key rotation: `issue` uses the first configured key, `verify` accepts any.

Every failure raises `TokenError` with code `token_expired` or `token_invalid`; the text is meant for
people and never contains the token or anything parsed out of it that the holder could choose.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from Crypto.Cipher import AES
from Crypto.Hash import SHA256
from Crypto.Protocol.KDF import HKDF

from common.protocol import E_TOKEN_EXPIRED, E_TOKEN_INVALID, ProtocolError

VERSION = 1
NONCE_BYTES = 12
TAG_BYTES = 16
#: Seconds a token's issue time may lie in the future (clock skew between frontend and realtime hosts).
MAX_SKEW = 30.0
#: Tokens longer than this (characters) are rejected before any decoding work.
MAX_TOKEN_CHARS = 4096

_B64URL = re.compile(r"[A-Za-z0-9_-]+")
_FIELDS = ("uid", "name", "iat", "exp", "purpose", "jti")


class TokenError(ProtocolError):
    """A token that cannot be accepted. `code` is `token_expired` or `token_invalid`, `text` is readable.

    A `ProtocolError`, so the realtime tier can answer it like any other rejected message.
    """

    def __init__(self, code: str, text: str) -> None:
        super().__init__(code, text)


@dataclass(frozen=True)
class Claims:
    """What a valid token says: who holds it, and when it was issued and stops being valid (epoch s)."""

    user_id: int
    name: str
    issued: float
    expires: float
    key_id: str
    jti: str


@functools.lru_cache(maxsize=64)
def _derive(secret: str, kid: str, purpose: str) -> bytes:
    """The 32-byte AES key of key id `kid` for `purpose` (cached: HKDF per token would be wasted work)."""
    return HKDF(secret.encode(), 32, f"felt-token/{purpose}".encode(), SHA256,
                context=b"felt token key id " + kid.encode())


def _header(kid: str) -> bytes:
    raw = kid.encode("ascii")
    return bytes((VERSION, len(raw))) + raw


def _check_kid(kid: str) -> None:
    if not kid or not kid.isascii() or len(kid) > 255:
        raise ValueError("token key ids must be 1-255 ASCII characters")


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _invalid(text: str) -> TokenError:
    return TokenError(E_TOKEN_INVALID, text)


def issue(claims: Mapping[str, Any], keys: Mapping[str, str], *, now: float, ttl: float,
          purpose: str = "realtime", nonce: bytes | None = None, jti: str | None = None) -> str:
    """A token for `claims["uid"]` / `claims["name"]`, valid from `now` for `ttl` seconds.

    Sealed with the first key of `keys` (key id -> secret). `nonce` and `jti` are for tests only; by
    default they are random. Raises `ValueError` on a configuration mistake (no keys, bad key id, bad
    claims), never `TokenError`.
    """
    if not keys:
        raise ValueError("no token keys configured")
    kid, secret = next(iter(keys.items()))
    _check_kid(kid)
    uid, name = claims["uid"], claims["name"]
    if not isinstance(uid, int) or isinstance(uid, bool) or not isinstance(name, str):
        raise ValueError("token claims need an int 'uid' and a str 'name'")
    if ttl <= 0:
        raise ValueError("token ttl must be positive")
    nonce = secrets.token_bytes(NONCE_BYTES) if nonce is None else nonce
    if len(nonce) != NONCE_BYTES:
        raise ValueError(f"nonce must be {NONCE_BYTES} bytes")
    body = {"uid": uid, "name": name, "iat": now, "exp": now + ttl, "purpose": purpose,
            "jti": jti if jti is not None else secrets.token_urlsafe(12)}
    plaintext = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    header = _header(kid)
    cipher = AES.new(_derive(secret, kid, purpose), AES.MODE_GCM, nonce=nonce)
    cipher.update(header)
    ciphertext, tag = cipher.encrypt_and_digest(plaintext)
    return _b64encode(header + nonce + ciphertext + tag)


def _unpack(token: object) -> tuple[bytes, str, bytes, bytes, bytes]:
    """Split a token into (header, kid, nonce, ciphertext, tag), or raise `token_invalid`."""
    if not isinstance(token, str) or not token:
        raise _invalid("no token given")
    if len(token) > MAX_TOKEN_CHARS:
        raise _invalid("token is too long")
    if not _B64URL.fullmatch(token) or len(token) % 4 == 1:
        raise _invalid("token is not valid base64url")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise _invalid("token is not valid base64url") from None
    if len(raw) < 2:
        raise _invalid("token is too short")
    if raw[0] != VERSION:
        raise _invalid("token has an unsupported format version")
    end = 2 + raw[1]
    if raw[1] == 0 or len(raw) < end + NONCE_BYTES + TAG_BYTES + 1:
        raise _invalid("token is too short")
    kid_bytes = raw[2:end]
    if not kid_bytes.isascii():
        raise _invalid("token names an unknown key")
    body = raw[end:]
    return (raw[:end], kid_bytes.decode("ascii"), body[:NONCE_BYTES], body[NONCE_BYTES:-TAG_BYTES],
            body[-TAG_BYTES:])


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def verify(token: str, keys: Mapping[str, str], *, now: float, purpose: str = "realtime") -> Claims:
    """The claims of `token` if it is authentic, for `purpose`, and valid at `now`; else `TokenError`.

    Any key in `keys` (key id -> secret) is accepted, so tokens issued before a rotation keep working
    until their key is removed from the list.
    """
    header, kid, nonce, ciphertext, tag = _unpack(token)
    secret = keys.get(kid)
    if secret is None:
        raise _invalid("token names an unknown key (it may have been retired); fetch a new token")
    cipher = AES.new(_derive(secret, kid, purpose), AES.MODE_GCM, nonce=nonce)
    cipher.update(header)
    try:
        plaintext = cipher.decrypt_and_verify(ciphertext, tag)
    except ValueError:
        # Also what a token sealed for another purpose looks like: its AES key differs.
        raise _invalid("token failed authentication (forged, altered, or for another purpose)") from None
    try:
        body = json.loads(plaintext)
    except (ValueError, RecursionError):
        raise _invalid("token content is not readable") from None
    if not isinstance(body, dict) or any(f not in body for f in _FIELDS):
        raise _invalid("token content is incomplete")
    uid, name, iat, exp = body["uid"], body["name"], body["iat"], body["exp"]
    if (not isinstance(uid, int) or isinstance(uid, bool) or not isinstance(name, str)
            or not _number(iat) or not _number(exp) or not isinstance(body["jti"], str)):
        raise _invalid("token content is malformed")
    if body["purpose"] != purpose:
        raise _invalid(f"token was not issued for {purpose} use")
    if exp <= iat:
        raise _invalid("token content is malformed")
    if iat > now + MAX_SKEW:
        raise _invalid(f"token is not valid yet (issued {iat - now:.0f} s in the future; check the clocks)")
    if now >= exp:
        raise TokenError(E_TOKEN_EXPIRED, f"token expired {now - exp:.0f} s ago; fetch a new token")
    return Claims(user_id=uid, name=name, issued=float(iat), expires=float(exp), key_id=kid,
                  jti=body["jti"])
