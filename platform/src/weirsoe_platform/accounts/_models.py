"""The platform's tables: host accounts and their presets.

A preset row holds what every cartridge shares (owner, cartridge slug, name, times) and the
settings as JSON; a cartridge that registers a preset model also keeps its settings in its own
table, one row per preset, joined on ``preset_id``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from weirsoe_sdk import ModelBase

__all__ = ["Preset", "User", "utcnow"]


def utcnow() -> datetime:
    return datetime.now(UTC)


class User(ModelBase):
    """A host account. ``username_key`` (lower case) makes names unique regardless of case."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(32))
    username_key: Mapped[str] = mapped_column(String(32), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Carried in every sign-in token; signing out adds one, which revokes every earlier token.
    token_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Preset(ModelBase):
    """A named set of settings for one cartridge, owned by one user."""

    __tablename__ = "presets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    cartridge: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(64))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
