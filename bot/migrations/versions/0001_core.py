"""core: users, identities, chats, pending conversations

Revision ID: 0001_core
Revises:
"""
from alembic import op
import sqlalchemy as sa

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    _create_people()
    _create_chats()
    _create_outbox()


def _create_people() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("display_name", sa.String(200), nullable=False, server_default=""),
        sa.Column("role", sa.String(20), nullable=False, server_default="guest"),
        sa.Column("locale", sa.String(5), nullable=True),
        sa.Column("timezone", sa.String(64), nullable=False, server_default="Europe/Brussels"),
        sa.Column("organisation_id", sa.String(100), nullable=True),
        sa.Column("entry_id", sa.String(100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "identities",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE",
                                                         name="fk_identities_user_id_users"),
                  nullable=False),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("platform_user_id", sa.String(255), nullable=False),
        sa.Column("username", sa.String(255), nullable=True),
        sa.Column("direct_chat_id", sa.String(255), nullable=True),
        sa.UniqueConstraint("platform", "platform_user_id", name="uq_identities_platform"),
    )
    op.create_index("ix_identities_user_id", "identities", ["user_id"])
    op.create_index("ix_identities_username", "identities", ["username"])


def _create_chats() -> None:
    op.create_table(
        "chats",
        sa.Column("key", sa.String(300), primary_key=True),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("is_direct", sa.Boolean(), nullable=False),
        sa.Column("unreachable_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "conversations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("chat_key", sa.String(300), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE",
                                                         name="fk_conversations_user_id_users"),
                  nullable=False),
        sa.Column("kind", sa.String(60), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("chat_key", "user_id", name="uq_conversations_chat_key"),
    )
    op.create_index("ix_conversations_user_id", "conversations", ["user_id"])


def _create_outbox() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("chat_key", sa.String(300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(300), nullable=True),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("platform_message_id", sa.String(255), nullable=True),
        sa.Column("source", sa.String(100), nullable=True),
        sa.UniqueConstraint("idempotency_key", name="uq_outbox_idempotency_key"),
    )
    op.create_index("ix_outbox_chat_key", "outbox", ["chat_key"])
    op.create_index("ix_outbox_status", "outbox", ["status"])
    op.create_index("ix_outbox_source", "outbox", ["source"])


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("conversations")
    op.drop_table("chats")
    op.drop_index("ix_identities_username", "identities")
    op.drop_index("ix_identities_user_id", "identities")
    op.drop_table("identities")
    op.drop_table("users")
