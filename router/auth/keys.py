"""Virtual keys: what one is allowed, how it is made and how it is recognised.

A key is ``pr-sk-`` + 32 random bytes (urlsafe base64), shown once at creation. Only its
SHA-256 is stored: the key carries 256 bits of entropy, so a salted slow hash adds
nothing, and a lookup by hash stays one indexed read. The master key is compared in
constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

KEY_PREFIX = "pr-sk-"


class KeyLimits(BaseModel):
    """What a key may use; every field optional (None = no restriction)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allowed_models: list[str] | None = None
    allowed_profiles: list[str] | None = None
    budget_usd_per_day: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    budget_usd_per_month: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    rpm: int | None = Field(default=None, gt=0, le=10**9)
    tpm: int | None = Field(default=None, gt=0, le=10**12)
    max_parallel: int | None = Field(default=None, gt=0, le=10**6)


class KeySpec(KeyLimits):
    """The body of ``POST /admin/keys``."""

    name: str = Field(min_length=1, max_length=200)


@dataclass(frozen=True, slots=True)
class VirtualKey:
    """A stored key: its id and limits, never the key itself."""

    id: str
    name: str
    limits: KeyLimits
    created_at: datetime
    revoked_at: datetime | None = None
    hint: str = ""

    @property
    def active(self) -> bool:
        """Not revoked."""
        return self.revoked_at is None


def new_key() -> tuple[str, str]:
    """A fresh (key id, secret key)."""
    return f"key_{uuid.uuid4().hex[:16]}", KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(secret: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def hint(secret: str) -> str:
    """What listings show: the prefix and the last four characters."""
    return f"{KEY_PREFIX}...{secret[-4:]}"


def is_master(presented: str, master: str | None) -> bool:
    """Constant-time comparison with the master key."""
    if master is None:
        return False
    return hmac.compare_digest(presented.encode("utf-8", "surrogatepass"), master.encode())
