"""confirmations: the policy actions a pending preview needs when it is confirmed

Revision ID: 0010_confirmations
Revises: 0009_instances
"""
from alembic import op
import sqlalchemy as sa

revision = "0010_confirmations"
down_revision = "0009_instances"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("requires", sa.JSON(), nullable=False,
                                   server_default=sa.text("'[]'")))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("requires")
