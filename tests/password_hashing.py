"""Cheap password hashes for the tests' accounts (the product's hasher is unchanged)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from argon2 import PasswordHasher, profiles

from cnvisa.http import security

CHEAP_HASHER = PasswordHasher.from_parameters(profiles.CHEAPEST)
"""argon2-cffi's profile for tests: argon2 verifies with the stored hash's own parameters, so a sign-in to an
account hashed with it costs microseconds instead of ≈ 0.2 s of CPU (the tests sign in thousands of times)."""


@contextmanager
def cheap_password_hashes() -> Iterator[None]:
    """The accounts made meanwhile (the demo seeding) are hashed with ``CHEAP_HASHER``. The product's hasher is
    unchanged otherwise, and so is the dummy hash an unknown name is checked against; test_auth_hardening
    gives its accounts real-cost hashes back."""
    real = security._hasher
    security._hasher = CHEAP_HASHER
    try:
        yield
    finally:
        security._hasher = real
