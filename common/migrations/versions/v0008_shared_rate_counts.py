"""The frontend's rate-limit counters in the database, so every gunicorn worker and every frontend host
counts a login's failures together (they were in each worker's memory).

Revision ID: 0008
Revises: '0007'
Created: 2026-12-01 18:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'rate_counts',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('expires', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )
    with op.batch_alter_table('rate_counts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rate_counts_expires'), ['expires'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('rate_counts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rate_counts_expires'))
    op.drop_table('rate_counts')
