"""reminders: schedules, acknowledgements, broadcasts

Revision ID: 0003_reminders
Revises: 0002_directory
"""
from alembic import op
import sqlalchemy as sa

revision = "0003_reminders"
down_revision = "0002_directory"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reminder_schedules",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("start_local", sa.String(19), nullable=False),
        sa.Column("rrule", sa.String(500), nullable=True),
        sa.Column("leads_minutes", sa.JSON(), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("owner_id", sa.Integer(),
                  sa.ForeignKey("users.id", ondelete="CASCADE",
                                name="fk_reminder_schedules_owner_id_users"), nullable=False),
        sa.Column("origin_chat", sa.String(300), nullable=False),
        sa.Column("exdates", sa.JSON(), nullable=False),
        sa.Column("skip_holidays", sa.Boolean(), nullable=False),
        sa.Column("next_due", sa.DateTime(timezone=True), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_reminder_schedules_owner_id", "reminder_schedules", ["owner_id"])
    op.create_index("ix_reminder_schedules_next_due", "reminder_schedules", ["next_due"])
    op.create_index("ix_reminder_schedules_active", "reminder_schedules", ["active"])
    op.create_table(
        "reminder_acks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("schedule_id", sa.Integer(),
                  sa.ForeignKey("reminder_schedules.id", ondelete="CASCADE",
                                name="fk_reminder_acks_schedule_id_reminder_schedules"),
                  nullable=False),
        sa.Column("occurrence", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(),
                  sa.ForeignKey("users.id", ondelete="CASCADE",
                                name="fk_reminder_acks_user_id_users"), nullable=False),
        sa.Column("answer", sa.String(10), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("schedule_id", "occurrence", "user_id",
                            name="uq_reminder_acks_schedule_id"),
    )
    op.create_index("ix_reminder_acks_schedule_id", "reminder_acks", ["schedule_id"])
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sender_id", sa.Integer(),
                  sa.ForeignKey("users.id", ondelete="CASCADE",
                                name="fk_broadcasts_sender_id_users"), nullable=False),
        sa.Column("sender_chat", sa.String(300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("unreachable", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("broadcasts")
    op.drop_index("ix_reminder_acks_schedule_id", "reminder_acks")
    op.drop_table("reminder_acks")
    op.drop_index("ix_reminder_schedules_active", "reminder_schedules")
    op.drop_index("ix_reminder_schedules_next_due", "reminder_schedules")
    op.drop_index("ix_reminder_schedules_owner_id", "reminder_schedules")
    op.drop_table("reminder_schedules")
