"""Background work: generation jobs, the speech cache, and each learner's last reminder day.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 12:30:00

The last reminder day lives in its own table (`learner_reminder`) rather than on `learner`: the
learner row is read on every chat event by a fixed statement (the asyncpg hot path), which a
new column would change.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "generation_job",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("learner_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("params", _json(), nullable=False),
        sa.Column("steps", _json(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("updated_at", _timestamp(), nullable=False),
        sa.Column("started_at", _timestamp(), nullable=True),
        sa.Column("finished_at", _timestamp(), nullable=True),
        sa.Column("delivered_at", _timestamp(), nullable=True),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learner.id"], name=op.f("fk_generation_job_learner_id_learner"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_generation_job")),
    )
    op.create_index(op.f("ix_generation_job_status_updated_at"), "generation_job", ["status", "updated_at"])
    op.create_index(op.f("ix_generation_job_learner_id_created_at"), "generation_job", ["learner_id", "created_at"])
    op.create_table(
        "speech_clip",
        sa.Column("cache_key", sa.String(length=64), nullable=False),
        sa.Column("media_key", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("voice", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=128), nullable=False),
        sa.Column("duration_s", sa.Double(), nullable=False),
        sa.Column("platform_refs", _json(), nullable=False),
        sa.Column("requested_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["learner.id"], name=op.f("fk_speech_clip_requested_by_learner"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("cache_key", name=op.f("pk_speech_clip")),
    )
    op.create_index(op.f("ix_speech_clip_requested_by_created_at"), "speech_clip", ["requested_by", "created_at"])
    op.create_table(
        "learner_reminder",
        sa.Column("learner_id", sa.Uuid(), nullable=False),
        sa.Column("last_reminded_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learner.id"], name=op.f("fk_learner_reminder_learner_id_learner"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("learner_id", name=op.f("pk_learner_reminder")),
    )


def downgrade() -> None:
    """Reverse `upgrade()` in reverse order."""
    op.drop_table("learner_reminder")
    op.drop_index(op.f("ix_speech_clip_requested_by_created_at"), table_name="speech_clip")
    op.drop_table("speech_clip")
    op.drop_index(op.f("ix_generation_job_learner_id_created_at"), table_name="generation_job")
    op.drop_index(op.f("ix_generation_job_status_updated_at"), table_name="generation_job")
    op.drop_table("generation_job")
