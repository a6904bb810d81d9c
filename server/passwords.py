"""Password hashing with scrypt (from `cryptography`), in a self-describing string format."""

from __future__ import annotations

import base64
import hmac
import os

from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

# OWASP's minimum for scrypt: N=2^17, r=8, p=1 costs 128 MiB; 2^15 keeps a 2-core instance
# responsive under a burst of logins while staying far beyond brute force of a leaked table.
_N, _R, _P = 2**15, 8, 1


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(password.encode())


def hash_password(password: str) -> str:
    """Return `scrypt$N$r$p$salt$hash` for a new password."""
    salt = os.urandom(16)
    digest = _derive(password, salt, _N, _R, _P)
    b64 = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """Check a password against a stored hash, in constant time."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    try:
        candidate = _derive(password, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError, MemoryError):
        return False  # a corrupted stored hash never matches
    return hmac.compare_digest(candidate, base64.b64decode(digest))
