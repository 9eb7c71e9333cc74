"""Initial schema: users, tables, logs, snapshots, house, finished games, chat.

The tables `create_all` made before migrations existed, plus the house's one row (the chips bots play
with). Revision ID: 0001. Revises: None.
Created: 2026-12-01 12:21:33.300331
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('chat',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('table_id', sa.String(length=40), nullable=False),
    sa.Column('user', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('ts', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('chat', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_table_id'), ['table_id'], unique=False)

    op.create_table('finished_games',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('table_id', sa.String(length=40), nullable=False),
    sa.Column('game', sa.String(length=40), nullable=False),
    sa.Column('players', sa.JSON(), nullable=False),
    sa.Column('scores', sa.JSON(), nullable=False),
    sa.Column('winners', sa.JSON(), nullable=False),
    sa.Column('actions', sa.JSON(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('finished', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('finished_games', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finished_games_table_id'), ['table_id'], unique=False)

    op.create_table('house',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('chips', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('tables',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('server', sa.String(length=40), nullable=False),
    sa.Column('game', sa.String(length=40), nullable=False),
    sa.Column('seats', sa.Integer(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('clock', sa.Float(), nullable=True),
    sa.Column('public', sa.Boolean(), nullable=False),
    sa.Column('creator', sa.Integer(), nullable=False),
    sa.Column('seed', sa.String(length=80), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('tables', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tables_server'), ['server'], unique=False)
        batch_op.create_index(batch_op.f('ix_tables_status'), ['status'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=32), nullable=False),
    sa.Column('display_name', sa.String(length=32), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('chips', sa.BigInteger(), nullable=False),
    sa.Column('created', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_username'), ['username'], unique=True)

    op.create_table('table_actions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('table_id', sa.String(length=40), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('entry', sa.JSON(), nullable=False),
    sa.Column('ts', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['table_id'], ['tables.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('table_id', 'seq')
    )
    with op.batch_alter_table('table_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_table_actions_table_id'), ['table_id'], unique=False)

    op.create_table('table_snapshots',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('table_id', sa.String(length=40), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('format', sa.Integer(), nullable=False),
    sa.Column('state', sa.Text(), nullable=False),
    sa.Column('ts', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['table_id'], ['tables.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('table_snapshots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_table_snapshots_table_id'), ['table_id'], unique=False)

    house = sa.table("house", sa.column("id", sa.Integer()), sa.column("chips", sa.BigInteger()))
    op.bulk_insert(house, [{"id": 1, "chips": 0}])


def downgrade() -> None:
    with op.batch_alter_table('table_snapshots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_table_snapshots_table_id'))

    op.drop_table('table_snapshots')
    with op.batch_alter_table('table_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_table_actions_table_id'))

    op.drop_table('table_actions')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_username'))

    op.drop_table('users')
    with op.batch_alter_table('tables', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tables_status'))
        batch_op.drop_index(batch_op.f('ix_tables_server'))

    op.drop_table('tables')
    op.drop_table('house')
    with op.batch_alter_table('finished_games', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finished_games_table_id'))

    op.drop_table('finished_games')
    with op.batch_alter_table('chat', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_table_id'))

    op.drop_table('chat')
