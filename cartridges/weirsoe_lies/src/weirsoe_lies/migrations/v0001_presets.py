"""Weirsøe Lies preset settings: one row per preset.

Revision ID: weirsoe_lies_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "weirsoe_lies_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "weirsoe_lies_presets",
        sa.Column("preset_id", sa.Integer(), nullable=False),
        sa.Column("rounds", sa.Integer(), nullable=False),
        sa.Column("questions_per_round", sa.Integer(), nullable=False),
        sa.Column("lie_seconds", sa.Float(), nullable=False),
        sa.Column("guess_seconds", sa.Float(), nullable=False),
        sa.Column("reveal_step_seconds", sa.Float(), nullable=False),
        sa.Column("scoreboard_seconds", sa.Float(), nullable=False),
        sa.Column("extended_timers", sa.Boolean(), nullable=False),
        sa.Column("family_mode", sa.Boolean(), nullable=False),
        sa.Column("lie_max_length", sa.Integer(), nullable=False),
        sa.Column("packs", sa.JSON(), nullable=False),
        sa.Column("house_lie_penalty", sa.Integer(), nullable=False),
        sa.Column("reaction_cap", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["preset_id"],
            ["presets.id"],
            name=op.f("fk_weirsoe_lies_presets_preset_id_presets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("preset_id", name=op.f("pk_weirsoe_lies_presets")),
    )


def downgrade() -> None:
    op.drop_table("weirsoe_lies_presets")
