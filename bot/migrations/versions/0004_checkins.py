"""check-ins: forms, rounds, assignments (answers), absences

Revision ID: 0004_checkins
Revises: 0003_reminders
"""
from alembic import op
import sqlalchemy as sa

revision = "0004_checkins"
down_revision = "0003_reminders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _create_forms_and_rounds()
    _create_assignments_and_absences()


def _create_forms_and_rounds() -> None:
    op.create_table(
        "checkin_forms",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(60), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("version", sa.String(60), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("source_hash", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("code", name="uq_checkin_forms_code"),
    )
    op.create_table(
        "checkin_rounds",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("form_id", sa.Integer(), sa.ForeignKey(
            "checkin_forms.id", ondelete="CASCADE", name="fk_checkin_rounds_form_id_checkin_forms"),
            nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("audience", sa.String(500), nullable=False),
        sa.Column("report_chat", sa.String(300), nullable=True),
        sa.Column("nudge_times", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey(
            "users.id", ondelete="SET NULL", name="fk_checkin_rounds_created_by_users"),
            nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("aggregates", sa.JSON(), nullable=True),
        sa.Column("reduced_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("form_id", "number", name="uq_checkin_rounds_form_id"),
    )
    op.create_index("ix_checkin_rounds_form_id", "checkin_rounds", ["form_id"])
    op.create_index("ix_checkin_rounds_status", "checkin_rounds", ["status"])


def _create_assignments_and_absences() -> None:
    op.create_table(
        "checkin_assignments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("round_id", sa.Integer(), sa.ForeignKey(
            "checkin_rounds.id", ondelete="CASCADE",
            name="fk_checkin_assignments_round_id_checkin_rounds"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey(
            "users.id", ondelete="CASCADE", name="fk_checkin_assignments_user_id_users"),
            nullable=False),
        sa.Column("chat_key", sa.String(300), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=True),
        sa.Column("draft", sa.JSON(), nullable=True),
        sa.Column("current", sa.Integer(), nullable=False),
        sa.Column("confirming", sa.Boolean(), nullable=False),
        sa.Column("region", sa.String(60), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("nudges_done", sa.Integer(), nullable=False),
        sa.Column("nudges_sent", sa.Integer(), nullable=False),
        sa.UniqueConstraint("round_id", "user_id", name="uq_checkin_assignments_round_id"),
    )
    op.create_index("ix_checkin_assignments_round_id", "checkin_assignments", ["round_id"])
    op.create_index("ix_checkin_assignments_user_id", "checkin_assignments", ["user_id"])
    op.create_index("ix_checkin_assignments_status", "checkin_assignments", ["status"])
    op.create_table(
        "checkin_absences",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey(
            "users.id", ondelete="CASCADE", name="fk_checkin_absences_user_id_users"),
            nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_checkin_absences_user_id", "checkin_absences", ["user_id"])


def downgrade() -> None:
    op.drop_table("checkin_absences")
    op.drop_table("checkin_assignments")
    op.drop_table("checkin_rounds")
    op.drop_table("checkin_forms")
