"""prompts: several pending prompts per person and chat (one per kind), background ones beside
the foreground conversation

Revision ID: 0011_prompts
Revises: 0010_confirmations
"""
from alembic import op
import sqlalchemy as sa

revision = "0011_prompts"
down_revision = "0010_confirmations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("background", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.drop_constraint("uq_conversations_chat_key", type_="unique")
        batch.create_unique_constraint("uq_conversations_prompt",
                                       ["chat_key", "user_id", "kind"])
    # A reminder's pending answers were the only prompts of their kind before.
    op.execute("UPDATE conversations SET background = true WHERE kind = 'reminders.ack'")


def downgrade() -> None:
    op.execute("DELETE FROM conversations WHERE background = true")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_constraint("uq_conversations_prompt", type_="unique")
        batch.create_unique_constraint("uq_conversations_chat_key", ["chat_key", "user_id"])
        batch.drop_column("background")
