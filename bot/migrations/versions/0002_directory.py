"""directory: organisations and entries

Revision ID: 0002_directory
Revises: 0001_core
"""
from alembic import op
import sqlalchemy as sa

revision = "0002_directory"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "directory_organisations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_fr", sa.Text(), nullable=False),
        sa.Column("name_nl", sa.Text(), nullable=False),
        sa.Column("name_de", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("acronym", sa.Text(), nullable=False),
        sa.Column("org_type", sa.String(20), nullable=False),
        sa.UniqueConstraint("key", name="uq_directory_organisations_key"),
    )
    op.create_table(
        "directory_entries",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("organisation_id", sa.Integer(),
                  sa.ForeignKey("directory_organisations.id", ondelete="CASCADE",
                                name="fk_directory_entries_organisation_id_directory_organisations"),
                  nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("service", sa.Text(), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("coverage", sa.JSON(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("contact_name", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("phone", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("matrix", sa.Text(), nullable=False),
        sa.Column("telegram", sa.Text(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("last_verified", sa.Date(), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("verification_requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_directory_entries_organisation_id", "directory_entries",
                    ["organisation_id"])
    op.create_table(
        "directory_last_queries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("chat_key", sa.String(300), nullable=False),
        sa.Column("user_id", sa.Integer(),
                  sa.ForeignKey("users.id", ondelete="CASCADE",
                                name="fk_directory_last_queries_user_id_users"),
                  nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("place", sa.String(10), nullable=True),
        sa.Column("shown", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("chat_key", "user_id", name="uq_directory_last_queries_chat_key"),
    )
    op.create_index("ix_directory_last_queries_user_id", "directory_last_queries", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_directory_last_queries_user_id", table_name="directory_last_queries")
    op.drop_table("directory_last_queries")
    op.drop_index("ix_directory_entries_organisation_id", table_name="directory_entries")
    op.drop_table("directory_entries")
    op.drop_table("directory_organisations")
