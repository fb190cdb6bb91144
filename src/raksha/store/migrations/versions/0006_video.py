"""Video: frame hashes on items, video match shares, per-set video thresholds.

Items that are videos keep their unique vPDQ frame hashes ([pdq, quality, seconds]) and
what the decoder reported; a match of a video against a reference video records the share
of the item's frames and of the reference's frames that matched; a known image found in a
video records the second it was shown. A set may carry its own video threshold (the
share of frames, in percent, that makes a match; none means 80).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 20:19:30.912771
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hash_sets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("video_threshold", sa.Integer(), nullable=True))

    with op.batch_alter_table("item_matches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("query_share", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("ref_share", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("at_seconds", sa.Float(), nullable=True))

    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("vpdq", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("video", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_column("video")
        batch_op.drop_column("vpdq")

    with op.batch_alter_table("item_matches", schema=None) as batch_op:
        batch_op.drop_column("at_seconds")
        batch_op.drop_column("ref_share")
        batch_op.drop_column("query_share")

    with op.batch_alter_table("hash_sets", schema=None) as batch_op:
        batch_op.drop_column("video_threshold")
