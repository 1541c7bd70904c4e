"""meetings: agenda points, decisions and action points of a meeting series (issue 16)

Revision ID: 0014_meetings
Revises: 0013_web
"""
from alembic import op
import sqlalchemy as sa

revision = "0014_meetings"
# The issue asked for "0009_instances"; main's head is 0012 now and two heads would stop
# `upgrade head`. The lead re-chains at merge.
down_revision = "0013_web"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "meeting_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("schedule_id", sa.Integer(),
                  sa.ForeignKey("reminder_schedules.id", ondelete="CASCADE",
                                name="fk_meeting_items_schedule_id_reminder_schedules"),
                  nullable=False),
        sa.Column("occurrence", sa.String(10), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(),
                  sa.ForeignKey("users.id", ondelete="SET NULL",
                                name="fk_meeting_items_author_id_users"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owner", sa.JSON(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(10), nullable=True),
        sa.Column("closed_by", sa.Integer(),
                  sa.ForeignKey("users.id", ondelete="SET NULL",
                                name="fk_meeting_items_closed_by_users"), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("overdue_at", sa.DateTime(timezone=True), nullable=True),
    )
    for column in ("schedule_id", "occurrence", "author_id", "due_at", "status"):
        op.create_index(f"ix_meeting_items_{column}", "meeting_items", [column])


def downgrade() -> None:
    op.drop_table("meeting_items")
