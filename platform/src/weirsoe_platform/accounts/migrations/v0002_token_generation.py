"""Sign-in tokens carry the user's token generation; signing out raises it.

Revision ID: platform_0002
Revises: platform_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "platform_0002"
down_revision = "platform_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("token_generation", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:  # SQLite cannot drop a column in place
        batch.drop_column("token_generation")
