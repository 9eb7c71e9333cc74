"""Finished games' replays and who sat at them; ratings per game and their history.

`finished_games.game_id` ("<table>:<seq of its deal>", unique), `.public`, `.rated` and `.replay` (what
each viewer saw, common/history.py); `game_players` (a person's seat in a finished game, indexed by user
and time for their history); `ratings` (current OpenSkill rating per game and player, indexed for the
leaderboard) and `rating_history` (one row per rated game and player: a game is never rated twice);
`tables.rated` (the table setting). Older finished games have no replay and stay unrated.

Revision ID: 0005
Revises: '0004'
Created: 2026-12-01 15:35:00.218518
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('game_players',
    sa.Column('game_id', sa.String(length=60), nullable=False),
    sa.Column('seat', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('game', sa.String(length=40), nullable=False),
    sa.Column('score', sa.BigInteger(), nullable=False),
    sa.Column('place', sa.Integer(), nullable=False),
    sa.Column('pot', sa.BigInteger(), nullable=False),
    sa.Column('moons', sa.Integer(), nullable=False),
    sa.Column('finished', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('game_id', 'seat')
    )
    with op.batch_alter_table('game_players', schema=None) as batch_op:
        batch_op.create_index('ix_game_players_user_finished', ['user_id', 'finished'], unique=False)

    op.create_table('rating_history',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('game_id', sa.String(length=60), nullable=False),
    sa.Column('game', sa.String(length=40), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('place', sa.Integer(), nullable=False),
    sa.Column('mu_before', sa.Float(), nullable=False),
    sa.Column('sigma_before', sa.Float(), nullable=False),
    sa.Column('mu', sa.Float(), nullable=False),
    sa.Column('sigma', sa.Float(), nullable=False),
    sa.Column('ts', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('game_id', 'user_id')
    )
    with op.batch_alter_table('rating_history', schema=None) as batch_op:
        batch_op.create_index('ix_rating_history_user_game_ts', ['user_id', 'game', 'ts'], unique=False)

    op.create_table('ratings',
    sa.Column('game', sa.String(length=40), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('mu', sa.Float(), nullable=False),
    sa.Column('sigma', sa.Float(), nullable=False),
    sa.Column('ordinal', sa.Float(), nullable=False),
    sa.Column('games', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('game', 'user_id')
    )
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.create_index('ix_ratings_game_ordinal', ['game', 'ordinal'], unique=False)

    with op.batch_alter_table('finished_games', schema=None) as batch_op:
        batch_op.add_column(sa.Column('game_id', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('public', sa.Boolean(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('rated', sa.Boolean(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('replay', sa.Text(), nullable=True))
        batch_op.create_index('ix_finished_games_game_id', ['game_id'], unique=True)

    with op.batch_alter_table('tables', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rated', sa.Boolean(), nullable=False, server_default='1'))



def downgrade() -> None:
    with op.batch_alter_table('tables', schema=None) as batch_op:
        batch_op.drop_column('rated')

    with op.batch_alter_table('finished_games', schema=None) as batch_op:
        batch_op.drop_index('ix_finished_games_game_id')
        batch_op.drop_column('replay')
        batch_op.drop_column('rated')
        batch_op.drop_column('public')
        batch_op.drop_column('game_id')

    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.drop_index('ix_ratings_game_ordinal')

    op.drop_table('ratings')
    with op.batch_alter_table('rating_history', schema=None) as batch_op:
        batch_op.drop_index('ix_rating_history_user_game_ts')

    op.drop_table('rating_history')
    with op.batch_alter_table('game_players', schema=None) as batch_op:
        batch_op.drop_index('ix_game_players_user_finished')

    op.drop_table('game_players')
