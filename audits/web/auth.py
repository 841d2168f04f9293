"""Users, sign-in tokens, signed session cookies and CSRF tokens of the review page.

Users live in the warehouse table `web_users`: a name (the reviewer name assignments use), a role
(reviewer | qa_lead | buyer_auditor), the one supplier a buyer auditor may see, and the sign-in token
stored only as a salted scrypt hash (hashlib.scrypt, n=2**14, r=8, p=1). `add_user` generates the
token (secrets.token_urlsafe(24)) and returns it once; nothing can show it again, only rotate it.

Sessions. The session cookie is `base64url(json) + "." + hmac_sha256(secret, base64url(json))`
holding the user name, the issue time, a random nonce and a fingerprint of the token hash, so that
rotating a token or disabling a user ends their sessions. The secret is 32 random bytes kept in the
warehouse's `meta` table (key `web_session_secret`), created on first use. A forged, expired or
tampered cookie is treated as no session.

CSRF. Every POST form carries `csrf`, an HMAC of the session nonce (or, on the sign-in form, of a
random pre-session cookie); the server recomputes it and refuses the request with 403 on a missing
or wrong token. SameSite=Lax on the cookies is the second line, not the only one.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

import duckdb

from audits.errors import ConfigError
from audits.warehouse import one, table_exists

ROLES = ("reviewer", "qa_lead", "buyer_auditor")
SESSION_SECONDS = 12 * 3600
SECRET_KEY = "web_session_secret"

USERS_SCHEMA = """
CREATE TABLE IF NOT EXISTS web_users (
    name VARCHAR PRIMARY KEY,   -- the reviewer name used in review_assignments
    role VARCHAR,               -- reviewer | qa_lead | buyer_auditor
    supplier VARCHAR,           -- the one supplier a buyer_auditor may see (NULL for the others)
    token_salt VARCHAR,         -- hex
    token_hash VARCHAR,         -- hex scrypt(token, salt)
    created_at TIMESTAMPTZ,
    disabled BOOLEAN
);
"""


@dataclass(frozen=True)
class User:
    """A signed-in user of the review page."""

    name: str
    role: str
    supplier: str | None
    fingerprint: str  # the first 16 hex digits of the token hash: a rotated token ends old sessions

    @property
    def is_lead(self) -> bool:
        return self.role == "qa_lead"

    @property
    def is_buyer(self) -> bool:
        return self.role == "buyer_auditor"

    def may_see_supplier(self, supplier: str) -> bool:
        """A buyer auditor sees one supplier; reviewers and leads see all (what they are assigned)."""
        return not self.is_buyer or supplier == self.supplier


def hash_token(token: str, salt: bytes) -> str:
    """scrypt of the token (hex)."""
    return hashlib.scrypt(token.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32).hex()


def ensure_users_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(USERS_SCHEMA)


def add_user(
    con: duckdb.DuckDBPyConnection, name: str, role: str, supplier: str | None = None, *, rotate: bool = False
) -> str:
    """Create a user (or, with `rotate`, give an existing one a new token); returns the token, once."""
    name = (name or "").strip()
    if not name or any(ch.isspace() for ch in name) or len(name) > 100:
        raise ConfigError(f"user name must be 1-100 characters without spaces, got {name!r}")
    if role not in ROLES:
        raise ConfigError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if role == "buyer_auditor" and not (supplier and supplier.strip()):
        raise ConfigError("a buyer_auditor sees exactly one supplier: give --supplier")
    if role != "buyer_auditor" and supplier:
        raise ConfigError(f"--supplier is only for buyer_auditor users, not {role}")
    ensure_users_table(con)
    exists = one(con, "SELECT 1 FROM web_users WHERE name = ?", [name]) is not None
    if exists and not rotate:
        raise ConfigError(f"user {name!r} exists; use --rotate to give them a new token")
    if rotate and not exists:
        raise ConfigError(f"no user {name!r} to rotate")
    token = secrets.token_urlsafe(24)
    salt = secrets.token_bytes(16)
    row = [name, role, supplier.strip() if supplier else None, salt.hex(), hash_token(token, salt)]
    con.execute("DELETE FROM web_users WHERE name = ?", [name])
    con.execute("INSERT INTO web_users VALUES (?, ?, ?, ?, ?, ?, false)", [*row, dt.datetime.now(dt.UTC)])
    session_secret(con)
    return token


def list_users(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Users without their token hashes."""
    if not table_exists(con, "web_users"):
        return []
    rows = con.execute(
        "SELECT name, role, supplier, created_at, disabled FROM web_users ORDER BY name"
    ).fetchall()
    return [dict(zip(("name", "role", "supplier", "created_at", "disabled"), r, strict=True)) for r in rows]


def load_users(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str | None, str, str, bool]]:
    """name -> (role, supplier, salt hex, hash hex, disabled): the table as the server caches it."""
    if not table_exists(con, "web_users"):
        return {}
    rows = con.execute(
        "SELECT name, role, supplier, token_salt, token_hash, disabled FROM web_users"
    ).fetchall()
    return {r[0]: (r[1], r[2], r[3], r[4], bool(r[5])) for r in rows}


def session_secret(con: duckdb.DuckDBPyConnection, *, create: bool = True) -> bytes | None:
    """The cookie-signing secret from `meta`, created when missing (needs a read-write connection)."""
    row = one(con, "SELECT value FROM meta WHERE key = ?", [SECRET_KEY])
    if row is not None:
        return bytes.fromhex(row[0])
    if not create:
        return None
    secret = secrets.token_bytes(32)
    con.execute("INSERT INTO meta VALUES (?, ?)", [SECRET_KEY, secret.hex()])
    return secret


def verify_token(
    users: dict[str, tuple[str, str | None, str, str, bool]], name: str, token: str
) -> User | None:
    """The user when `token` is theirs (constant-time compare), else None."""
    rec = users.get(name)
    if rec is None:
        hash_token(token, b"0" * 16)  # same work for unknown names: no timing hint
        return None
    role, supplier, salt, digest, disabled = rec
    ok = hmac.compare_digest(hash_token(token, bytes.fromhex(salt)), digest)
    if not ok or disabled:
        return None
    return User(name, role, supplier, digest[:16])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: bytes, text: str) -> str:
    return hmac.new(secret, text.encode(), hashlib.sha256).hexdigest()


def make_session(secret: bytes, user: User, now: float | None = None) -> str:
    """A signed session cookie value for `user`."""
    body = {"u": user.name, "t": int(now if now is not None else time.time()),
            "n": secrets.token_hex(16), "k": user.fingerprint}  # fmt: skip
    text = _b64(json.dumps(body, separators=(",", ":")).encode())
    return f"{text}.{_sign(secret, text)}"


def read_session(
    secret: bytes, value: str | None, users: dict[str, tuple[str, str | None, str, str, bool]]
) -> tuple[User, str] | None:
    """(user, nonce) of a valid, unexpired cookie whose user still exists with the same token; else None."""
    if not value or "." not in value:
        return None
    text, sig = value.rsplit(".", 1)
    if not hmac.compare_digest(_sign(secret, text), sig):
        return None
    try:
        body = json.loads(_unb64(text))
        name, issued, nonce, fp = str(body["u"]), int(body["t"]), str(body["n"]), str(body["k"])
    except (ValueError, KeyError, TypeError):
        return None
    if not 0 <= time.time() - issued <= SESSION_SECONDS:
        return None
    rec = users.get(name)
    if rec is None or rec[4] or rec[3][:16] != fp:
        return None
    return User(name, rec[0], rec[1], fp), nonce


def csrf_token(secret: bytes, nonce: str) -> str:
    """The CSRF token of a session (or pre-session) nonce."""
    return _sign(secret, "csrf:" + nonce)


def csrf_ok(secret: bytes, nonce: str | None, given: str | None) -> bool:
    """True when `given` is the CSRF token of `nonce`."""
    if not nonce or not given:
        return False
    return hmac.compare_digest(csrf_token(secret, nonce), given)
