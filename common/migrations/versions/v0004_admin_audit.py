"""The admin console: an admin flag on accounts, the audit log (and queue of table commands), table rosters
and game servers' move rates.

`users.admin` (set by `python -m frontend.cli set-admin NAME`; nobody is an admin after migrating);
`audit` (common/audit.py: every admin action, and close/kick commands waiting for the table's game
server); `tables.roster` (who sits, written by the owning game server); `servers.rate` (log entries per
second a game server's tables gained over its last heartbeat).

Revision ID: 0004
Revises: '0003'
Created: 2026-12-01 15:31:01.998847
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('ts', sa.Float(), nullable=False),
    sa.Column('admin', sa.Integer(), nullable=False),
    sa.Column('admin_name', sa.String(length=32), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('target', sa.String(length=40), nullable=False),
    sa.Column('user', sa.Integer(), nullable=True),
    sa.Column('user_name', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('result', sa.String(length=300), nullable=False),
    sa.Column('claimed_by', sa.String(length=40), nullable=False),
    sa.Column('claimed_at', sa.Float(), nullable=True),
    sa.Column('done_at', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_ts'), ['ts'], unique=False)

    with op.batch_alter_table('servers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rate', sa.Float(), nullable=False, server_default='0'))

    with op.batch_alter_table('tables', schema=None) as batch_op:
        batch_op.add_column(sa.Column('roster', sa.JSON(), nullable=True))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('admin', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('admin')

    with op.batch_alter_table('tables', schema=None) as batch_op:
        batch_op.drop_column('roster')

    with op.batch_alter_table('servers', schema=None) as batch_op:
        batch_op.drop_column('rate')

    with op.batch_alter_table('audit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_ts'))
        batch_op.drop_index(batch_op.f('ix_audit_status'))

    op.drop_table('audit')
