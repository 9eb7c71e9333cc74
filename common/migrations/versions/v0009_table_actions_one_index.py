"""A table's log keeps one index by table: `(table_id, seq)`'s unique one, which serves every lookup by
table as well. The index on `table_id` alone duplicated it, and every move wrote a page of each (on
SQLite about 40 % of a group commit's pages: `scripts/felt_load`, issue 14).

Revision ID: 0009
Revises: '0008'
Created: 2026-12-02 17:30:00
"""

from __future__ import annotations

from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('table_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_table_actions_table_id'))


def downgrade() -> None:
    with op.batch_alter_table('table_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_table_actions_table_id'), ['table_id'], unique=False)
