"""web: dashboard login links, sessions and feed tokens

Revision ID: 0013_web
Revises: 0012_directory_changes
"""
from alembic import op
import sqlalchemy as sa

revision = "0013_web"
down_revision = "0012_directory_changes"
branch_labels = None
depends_on = None


def _user(table: str) -> sa.Column:
    return sa.Column("user_id", sa.Integer(), sa.ForeignKey(
        "users.id", ondelete="CASCADE", name=f"fk_{table}_user_id_users"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "web_login_links",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        _user("web_login_links"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("token_hash", name="uq_web_login_links_token_hash"),
    )
    op.create_index("ix_web_login_links_user_id", "web_login_links", ["user_id"])
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        _user("web_sessions"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("token_hash", name="uq_web_sessions_token_hash"),
    )
    op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"])
    op.create_table(
        "web_feed_tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("name", name="uq_web_feed_tokens_name"),
        sa.UniqueConstraint("token_hash", name="uq_web_feed_tokens_token_hash"),
    )


def downgrade() -> None:
    op.drop_table("web_feed_tokens")
    op.drop_index("ix_web_sessions_user_id", "web_sessions")
    op.drop_table("web_sessions")
    op.drop_index("ix_web_login_links_user_id", "web_login_links")
    op.drop_table("web_login_links")
