"""instances: outbox rows and webhook updates are claimed by one running instance at a time

Revision ID: 0009_instances
Revises: 0008_wiring
"""
from alembic import op
import sqlalchemy as sa

revision = "0009_instances"
down_revision = "0008_wiring"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(64), nullable=True))
        batch.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))


    # Webhook mode behind a load balancer: an update is claimed before it is handled, so
    # two instances never handle the same redelivery; `finished` tells a claim from a record.
    with op.batch_alter_table("telegram_handled_updates") as batch:
        batch.add_column(sa.Column("finished", sa.Boolean(), nullable=False,
                                   server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table("telegram_handled_updates") as batch:
        batch.drop_column("finished")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("claimed_until")
        batch.drop_column("claimed_by")
