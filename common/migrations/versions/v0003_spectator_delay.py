"""Spectator delay: how late a table's spectators see it (`tables.spectator_delay`: seconds, or "hand").

Existing tables are watched live (0).

Revision ID: 0003
Revises: '0002'
Created: 2026-12-01 15:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tables', schema=None) as batch_op:
        batch_op.add_column(sa.Column('spectator_delay', sa.JSON(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('tables', schema=None) as batch_op:
        batch_op.drop_column('spectator_delay')
