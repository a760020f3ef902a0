"""Initial schema.

Learners, identities, pairs, word bank, flashcards, reviews, packs and chat state.

Revision ID: 0001
Revises:
Create Date: 2026-11-26 10:01:06

Types are portable (Uuid, timestamptz / UTC text, JSONB / JSON) so the same revision runs on
Postgres and SQLite. Every table that belongs to a learner cascades from `learner`.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _learner_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["learner_id"], ["learner.id"], name=op.f(f"fk_{table}_learner_id_learner"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "learner",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("reminder_time", sa.String(length=5), nullable=True),
        sa.Column("new_cards_per_day", sa.Integer(), nullable=False),
        sa.Column("directions", sa.String(length=16), nullable=False),
        sa.Column("audio_on_cards", sa.Boolean(), nullable=False),
        sa.Column("desired_retention", sa.Double(), nullable=False),
        sa.Column("fsrs_parameters", _json(), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learner")),
    )
    op.create_table(
        "pack",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("target", sa.String(length=8), nullable=False),
        sa.Column("native", sa.String(length=8), nullable=False),
        sa.Column("level", sa.String(length=2), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pack")),
        sa.UniqueConstraint("slug", name=op.f("uq_pack_slug")),
    )
    op.create_table(
        "processed_update",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("update_key", sa.Text(), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "update_key", name=op.f("pk_processed_update")),
    )
    op.create_table(
        "chat_identity",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("platform_user_id", sa.Text(), nullable=False),
        sa.Column("learner_id", sa.Uuid(), nullable=False),
        _learner_fk("chat_identity"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_identity")),
        sa.UniqueConstraint(
            "platform", "platform_user_id", name=op.f("uq_chat_identity_platform_platform_user_id")
        ),
    )
    op.create_index(op.f("ix_chat_identity_learner_id"), "chat_identity", ["learner_id"])
    op.create_table(
        "conversation_state",
        sa.Column("learner_id", sa.Uuid(), nullable=False),
        sa.Column("flow", sa.String(length=32), nullable=True),
        sa.Column("data", _json(), nullable=False),
        sa.Column("updated_at", _timestamp(), nullable=False),
        _learner_fk("conversation_state"),
        sa.PrimaryKeyConstraint("learner_id", name=op.f("pk_conversation_state")),
    )
    op.create_table(
        "language_pair",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("learner_id", sa.Uuid(), nullable=False),
        sa.Column("target", sa.String(length=8), nullable=False),
        sa.Column("native", sa.String(length=8), nullable=False),
        sa.Column("level", sa.String(length=2), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        _learner_fk("language_pair"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_language_pair")),
        sa.UniqueConstraint(
            "learner_id", "target", "native", name=op.f("uq_language_pair_learner_id_target_native")
        ),
    )
    op.create_table(
        "pack_entry",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("pack_id", sa.Uuid(), nullable=False),
        sa.Column("term", sa.Text(), nullable=False),
        sa.Column("lemma", sa.Text(), nullable=False),
        sa.Column("translation", sa.Text(), nullable=False),
        sa.Column("example", sa.Text(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pack_id"], ["pack.id"], name=op.f("fk_pack_entry_pack_id_pack"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pack_entry")),
    )
    op.create_index(op.f("ix_pack_entry_pack_id_position"), "pack_entry", ["pack_id", "position"])
    op.create_table(
        "word_bank_entry",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("learner_id", sa.Uuid(), nullable=False),
        sa.Column("pair_id", sa.Uuid(), nullable=False),
        sa.Column("term", sa.Text(), nullable=False),
        sa.Column("lemma", sa.Text(), nullable=False),
        sa.Column("translation", sa.Text(), nullable=True),
        sa.Column("context", sa.Text(), nullable=True),
        sa.Column("example", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=128), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        _learner_fk("word_bank_entry"),
        sa.ForeignKeyConstraint(
            ["pair_id"],
            ["language_pair.id"],
            name=op.f("fk_word_bank_entry_pair_id_language_pair"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_word_bank_entry")),
        sa.UniqueConstraint("pair_id", "lemma", name=op.f("uq_word_bank_entry_pair_id_lemma")),
    )
    op.create_index(op.f("ix_word_bank_entry_learner_id"), "word_bank_entry", ["learner_id"])
    op.create_index(op.f("ix_word_bank_entry_pair_id_created_at"), "word_bank_entry", ["pair_id", "created_at"])
    op.create_table(
        "flashcard",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("learner_id", sa.Uuid(), nullable=False),
        sa.Column("pair_id", sa.Uuid(), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("state", sa.SmallInteger(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=True),
        sa.Column("stability", sa.Double(), nullable=True),
        sa.Column("difficulty", sa.Double(), nullable=True),
        sa.Column("due", _timestamp(), nullable=False),
        sa.Column("last_review", _timestamp(), nullable=True),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("suspended", sa.Boolean(), nullable=False),
        sa.Column("queue", sa.SmallInteger(), nullable=False),  # -1 suspended, 0 new, 1 scheduled
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["word_bank_entry.id"],
            name=op.f("fk_flashcard_entry_id_word_bank_entry"),
            ondelete="CASCADE",
        ),
        _learner_fk("flashcard"),
        sa.ForeignKeyConstraint(
            ["pair_id"], ["language_pair.id"], name=op.f("fk_flashcard_pair_id_language_pair"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flashcard")),
        sa.UniqueConstraint("entry_id", "direction", name=op.f("uq_flashcard_entry_id_direction")),
    )
    op.create_index(op.f("ix_flashcard_learner_id_queue_due"), "flashcard", ["learner_id", "queue", "due"])
    op.create_index(op.f("ix_flashcard_pair_id_queue_due"), "flashcard", ["pair_id", "queue", "due"])
    op.create_table(
        "review_event",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("card_id", sa.Uuid(), nullable=True),
        sa.Column("learner_id", sa.Uuid(), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("answer_text", sa.Text(), nullable=True),
        sa.Column("state_before", sa.SmallInteger(), nullable=False),
        sa.Column("due_before", _timestamp(), nullable=False),
        sa.Column("due_after", _timestamp(), nullable=False),
        sa.Column("stability_after", sa.Double(), nullable=True),
        sa.Column("difficulty_after", sa.Double(), nullable=True),
        sa.Column("reviewed_at", _timestamp(), nullable=False),
        sa.ForeignKeyConstraint(
            ["card_id"], ["flashcard.id"], name=op.f("fk_review_event_card_id_flashcard"), ondelete="SET NULL"
        ),
        _learner_fk("review_event"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_event")),
    )
    op.create_index(op.f("ix_review_event_card_id"), "review_event", ["card_id"])
    op.create_index(op.f("ix_review_event_learner_id_reviewed_at"), "review_event", ["learner_id", "reviewed_at"])


def downgrade() -> None:
    """Reverse `upgrade()` in reverse order."""
    op.drop_index(op.f("ix_review_event_learner_id_reviewed_at"), table_name="review_event")
    op.drop_index(op.f("ix_review_event_card_id"), table_name="review_event")
    op.drop_table("review_event")
    op.drop_index(op.f("ix_flashcard_pair_id_queue_due"), table_name="flashcard")
    op.drop_index(op.f("ix_flashcard_learner_id_queue_due"), table_name="flashcard")
    op.drop_table("flashcard")
    op.drop_index(op.f("ix_word_bank_entry_pair_id_created_at"), table_name="word_bank_entry")
    op.drop_index(op.f("ix_word_bank_entry_learner_id"), table_name="word_bank_entry")
    op.drop_table("word_bank_entry")
    op.drop_index(op.f("ix_pack_entry_pack_id_position"), table_name="pack_entry")
    op.drop_table("pack_entry")
    op.drop_table("language_pair")
    op.drop_table("conversation_state")
    op.drop_index(op.f("ix_chat_identity_learner_id"), table_name="chat_identity")
    op.drop_table("chat_identity")
    op.drop_table("processed_update")
    op.drop_table("pack")
    op.drop_table("learner")
