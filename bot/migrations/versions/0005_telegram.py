"""telegram: offsets and handled updates (no update handled twice after a restart)

Revision ID: 0005_telegram
Revises: 0004_checkins
"""
from alembic import op
import sqlalchemy as sa

revision = "0005_telegram"
down_revision = "0004_checkins"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "telegram_offsets",
        sa.Column("bot_id", sa.String(32), primary_key=True),
        sa.Column("next_offset", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "telegram_handled_updates",
        sa.Column("bot_id", sa.String(32), nullable=False),
        sa.Column("update_id", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("bot_id", "update_id", name="pk_telegram_handled_updates"),
    )


def downgrade() -> None:
    op.drop_table("telegram_handled_updates")
    op.drop_table("telegram_offsets")
