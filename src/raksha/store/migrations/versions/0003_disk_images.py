"""Disk images: where each item lay on the device, and what the image says of itself.

Items from disk images record whether the file was allocated, deleted or carved, its
inode and the byte offset of its data in the media. Evidence records the image format,
the media size, the acquisition MD5/SHA-1 an E01 stores, and the result of the last
``--verify`` (status, the hashes read back, when), plus the partitions and file systems
found.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 19:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("allocation", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("inode", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("data_offset", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.add_column(sa.Column("image_format", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("media_size", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("acquisition_md5", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("acquisition_sha1", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("verification", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("verified_md5", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("verified_sha1", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("details", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        for name in (
            "details",
            "verified_at",
            "verified_sha1",
            "verified_md5",
            "verification",
            "acquisition_sha1",
            "acquisition_md5",
            "media_size",
            "image_format",
        ):
            batch_op.drop_column(name)
    with op.batch_alter_table("items", schema=None) as batch_op:
        for name in ("data_offset", "inode", "allocation"):
            batch_op.drop_column(name)
