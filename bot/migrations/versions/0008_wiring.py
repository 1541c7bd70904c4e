"""wiring: the focal point's "needs changes" answer to a directory re-verification request

Revision ID: 0008_wiring
Revises: 0007_trust
"""
from alembic import op
import sqlalchemy as sa

revision = "0008_wiring"
down_revision = "0007_trust"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("directory_entries") as batch:
        batch.add_column(sa.Column("changes_requested_at", sa.DateTime(timezone=True),
                                   nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("directory_entries") as batch:
        batch.drop_column("changes_requested_at")
