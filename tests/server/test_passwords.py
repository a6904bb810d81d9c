"""Password hashes: scrypt, salted, self-describing, checked in constant time."""

from __future__ import annotations

import pytest

from server.passwords import hash_password, verify_password


def test_hash_password_writes_scheme_parameters_salt_and_digest() -> None:
    stored = hash_password("a long enough password")
    scheme, n, r, p, salt, digest = stored.split("$")
    assert (scheme, n, r, p) == ("scrypt", str(2**15), "8", "1")
    assert salt and digest
    assert "a long enough password" not in stored


def test_verify_password_accepts_the_right_password_and_refuses_others() -> None:
    stored = hash_password("a long enough password")
    assert verify_password("a long enough password", stored)
    assert not verify_password("a long enough passwore", stored)
    assert not verify_password("", stored)


def test_same_password_hashes_differently_each_time() -> None:
    assert hash_password("same password here") != hash_password("same password here")


def test_verify_password_handles_non_ascii_passwords() -> None:
    stored = hash_password("mot de passe à l'été ✓")
    assert verify_password("mot de passe à l'été ✓", stored)
    assert not verify_password("mot de passe a l'ete ✓", stored)


@pytest.mark.parametrize(
    "stored",
    ["", "plain-text", "bcrypt$2$8$1$c2FsdA==$ZGlnZXN0", "scrypt$32768$8$1$c2FsdA=="],
)
def test_verify_password_refuses_malformed_or_foreign_hashes(stored: str) -> None:
    assert not verify_password("whatever password", stored)
