"""Each table's policy for time and absence (`common.policy.TablePolicy`: time banks, the disconnection
bank, the grace period, sitting out), chosen when the table is created. Existing tables get `{}`, read
as the defaults.

Revision ID: 0007
Revises: '0006'
Created: 2026-12-01 16:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tables', schema=None) as batch_op:
        batch_op.add_column(sa.Column('policy', sa.JSON(), nullable=False, server_default='{}'))


def downgrade() -> None:
    with op.batch_alter_table('tables', schema=None) as batch_op:
        batch_op.drop_column('policy')
