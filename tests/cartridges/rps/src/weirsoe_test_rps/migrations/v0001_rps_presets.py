"""rps preset settings.

Revision ID: rps_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "rps_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rps_presets",
        sa.Column("preset_id", sa.Integer(), nullable=False),
        sa.Column("rounds", sa.Integer(), nullable=False),
        sa.Column("throw_seconds", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["preset_id"],
            ["presets.id"],
            name=op.f("fk_rps_presets_preset_id_presets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("preset_id", name=op.f("pk_rps_presets")),
    )


def downgrade() -> None:
    op.drop_table("rps_presets")
