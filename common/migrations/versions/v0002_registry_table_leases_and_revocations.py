"""The registry of live processes, table ownership leases with an epoch, and token revocations.

`servers` (common/registry.py); `tables.owner`, `tables.epoch`, `tables.handover` and
`table_actions.epoch` (gameserver/ownership.py: every write is fenced by owner and epoch); `revocations`
(logout and password change). Existing tables are owned by the server that created them, at epoch 1.

Revision ID: 0002
Revises: '0001'
Created: 2026-12-01 13:14:35.931903
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('revocations',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('not_before', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('user_id')
    )
    with op.batch_alter_table('revocations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_revocations_not_before'), ['not_before'], unique=False)

    op.create_table('servers',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('endpoint', sa.String(length=200), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=False),
    sa.Column('boot', sa.String(length=40), nullable=False),
    sa.Column('version', sa.String(length=40), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('load', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('started', sa.Float(), nullable=False),
    sa.Column('renewed', sa.Float(), nullable=False),
    sa.Column('lease_until', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    with op.batch_alter_table('servers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_servers_kind'), ['kind'], unique=False)

    with op.batch_alter_table('table_actions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('epoch', sa.Integer(), nullable=False, server_default='0'))

    with op.batch_alter_table('tables', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner', sa.String(length=40), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('epoch', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('handover', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.create_index(batch_op.f('ix_tables_owner'), ['owner'], unique=False)
    op.execute("UPDATE tables SET owner = server")



def downgrade() -> None:
    with op.batch_alter_table('tables', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tables_owner'))
        batch_op.drop_column('handover')
        batch_op.drop_column('epoch')
        batch_op.drop_column('owner')

    with op.batch_alter_table('table_actions', schema=None) as batch_op:
        batch_op.drop_column('epoch')

    with op.batch_alter_table('servers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_servers_kind'))

    op.drop_table('servers')
    with op.batch_alter_table('revocations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_revocations_not_before'))

    op.drop_table('revocations')
