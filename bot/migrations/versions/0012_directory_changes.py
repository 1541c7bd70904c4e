"""directory changes: what focal points change in their entry, in chat, and the completeness
campaign's requests (issue 18, section 3)

Revision ID: 0012_directory_changes
Revises: 0011_prompts
"""
from alembic import op
import sqlalchemy as sa

revision = "0012_directory_changes"
down_revision = "0011_prompts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "directory_changes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("entry_id", sa.String(100), nullable=False),
        sa.Column("field", sa.String(30), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=False),
        sa.Column("new_value", sa.Text(), nullable=False),
        sa.Column("changed_by", sa.Integer(),
                  sa.ForeignKey("users.id", ondelete="SET NULL",
                                name="fk_directory_changes_changed_by_users"), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("decided_by", sa.Integer(),
                  sa.ForeignKey("users.id", ondelete="SET NULL",
                                name="fk_directory_changes_decided_by_users"), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("digested_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_directory_changes_entry_id", "directory_changes", ["entry_id"])
    op.create_index("ix_directory_changes_changed_by", "directory_changes", ["changed_by"])
    op.create_table(
        "directory_completion_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.String(100), nullable=False),
        sa.Column("user_id", sa.Integer(),
                  sa.ForeignKey("users.id", ondelete="CASCADE",
                                name="fk_directory_completion_requests_user_id_users"),
                  nullable=False),
        sa.Column("chat_key", sa.String(300), nullable=False),
        sa.Column("created_by", sa.Integer(),
                  sa.ForeignKey("users.id", ondelete="SET NULL",
                                name="fk_directory_completion_requests_created_by_users"),
                  nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("steps_sent", sa.Integer(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
    )
    for column in ("campaign", "entry_id", "user_id"):
        op.create_index(f"ix_directory_completion_requests_{column}",
                        "directory_completion_requests", [column])


def downgrade() -> None:
    for column in ("campaign", "entry_id", "user_id"):
        op.drop_index(f"ix_directory_completion_requests_{column}",
                      "directory_completion_requests")
    op.drop_table("directory_completion_requests")
    op.drop_index("ix_directory_changes_changed_by", "directory_changes")
    op.drop_index("ix_directory_changes_entry_id", "directory_changes")
    op.drop_table("directory_changes")
