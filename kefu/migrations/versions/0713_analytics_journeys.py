"""analytics: the handoff summary (handoffs and hotline calls per local day × org unit × from × to channel,
with a fact per handoff and per call, backfilled from handoffs and interactions); the return summary (repeat
contacts, channel switches, resolution per task type) and the path summary (journeys before a complaint or
an appeal), kept with the quality facts, which gain the next channel, the time to resolution and the path.
The return summary is backfilled from the quality facts as they are (no next channel, no resolution yet);
`kefu analytics rebuild` recounts switches, resolutions and paths of the days before.

Revision ID: 0713_analytics_journeys
Revises: 0712_analytics_surveys
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0713_analytics_journeys'
down_revision: str | Sequence[str] | None = '0712_analytics_surveys'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
HANDOFF_KEYS = ('day', 'org_unit_id', 'from_channel', 'to_channel')
RETURN_KEYS = ('day', 'org_unit_id', 'channel', 'category', 'next_channel')


def _daily(name: str, keys: list[sa.Column], sums: list[sa.Column]) -> None:  # type: ignore[type-arg]
    op.create_table(name,
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('day', sa.Integer(), nullable=False),
    sa.Column('org_unit_id', ID, nullable=False),
    *keys, *sums,
    sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{name}')),
    sa.UniqueConstraint('day', 'org_unit_id', *(c.name for c in keys), name=f'uq_{name}_key')
    )
    op.create_index(f'ix_{name}_unit', name, ['org_unit_id', 'day'])


def upgrade() -> None:
    with op.batch_alter_table('analytics_quality_facts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_channel', sa.String(length=16), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('resolve_seconds', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('path', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('path_contacts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('handed_off', sa.Boolean(), nullable=False, server_default=sa.false()))
    _daily('analytics_daily_returns',
           [sa.Column('channel', sa.String(length=16), nullable=False),
            sa.Column('category', sa.String(length=40), nullable=False),
            sa.Column('next_channel', sa.String(length=16), nullable=False)],
           [*(sa.Column(n, sa.BigInteger(), nullable=False) for n in ('contacts', 'returned', 'resolved')),
            sa.Column('resolve_sum', sa.Float(), nullable=False)])
    _daily('analytics_daily_paths',
           [sa.Column('channel', sa.String(length=16), nullable=False),
            sa.Column('type', sa.String(length=16), nullable=False),
            sa.Column('path', sa.String(length=200), nullable=False)],
           [sa.Column(n, sa.BigInteger(), nullable=False) for n in ('tickets', 'contacts', 'handed_off')])
    op.create_table('analytics_handoff_facts',
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('ref_id', ID, autoincrement=False, nullable=False),
    sa.Column('day', sa.Integer(), nullable=False),
    sa.Column('org_unit_id', ID, nullable=False),
    sa.Column('from_channel', sa.String(length=16), nullable=False),
    sa.Column('to_channel', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('opened', sa.Boolean(), nullable=False),
    sa.Column('saved_seconds', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'ref_id', name=op.f('pk_analytics_handoff_facts'))
    )
    op.create_index('ix_analytics_handoff_facts_day', 'analytics_handoff_facts', ['day'])
    _daily('analytics_daily_handoffs',
           [sa.Column('from_channel', sa.String(length=16), nullable=False),
            sa.Column('to_channel', sa.String(length=16), nullable=False)],
           [*(sa.Column(n, sa.BigInteger(), nullable=False)
              for n in ('calls', 'offered', 'opened', 'completed', 'returned')),
            sa.Column('saved_seconds', sa.Float(), nullable=False)])

    def day(col: str) -> str:  # the local day (China, UTC+8: kefu.analytics.summary.DAY_OFFSET)
        if op.get_bind().dialect.name == 'postgresql':
            return f"CAST(FLOOR((EXTRACT(EPOCH FROM {col}) + 28800) / 86400) AS INTEGER)"
        return f"((CAST(strftime('%s', {col}) AS INTEGER) + 28800) / 86400)"

    cols = "kind, ref_id, day, org_unit_id, from_channel, to_channel, status, opened, saved_seconds"
    # the handoffs' branch (0951) may come after this one on a fresh database: nothing to backfill then
    if sa.inspect(op.get_bind()).has_table('handoffs'):
        op.execute(f"INSERT INTO analytics_handoff_facts ({cols}) SELECT 'handoff', id, {day('offered_at')}, "
                   f"org_unit_id, from_channel, to_channel, status, opened_at IS NOT NULL, "
                   f"CASE WHEN status = 'completed' THEN saved_seconds ELSE 0 END FROM handoffs")
    op.execute(f"INSERT INTO analytics_handoff_facts ({cols}) SELECT 'call', id, {day('offered_at')}, org_unit_id, "
               f"'voice', '', '', {'false' if op.get_bind().dialect.name == 'postgresql' else '0'}, 0 "
               f"FROM interactions WHERE channel = 'voice' AND direction = 'inbound'")
    keys = ', '.join(HANDOFF_KEYS)
    handoff = "kind = 'handoff'"
    op.execute(f"INSERT INTO analytics_daily_handoffs ({keys}, calls, offered, opened, completed, returned, "
               f"saved_seconds) SELECT {keys}, SUM(CASE WHEN kind = 'call' THEN 1 ELSE 0 END), "
               f"SUM(CASE WHEN {handoff} THEN 1 ELSE 0 END), SUM(CASE WHEN {handoff} AND opened THEN 1 ELSE 0 END), "
               f"SUM(CASE WHEN {handoff} AND status = 'completed' THEN 1 ELSE 0 END), "
               f"SUM(CASE WHEN {handoff} AND status = 'returned' THEN 1 ELSE 0 END), SUM(saved_seconds) "
               f"FROM analytics_handoff_facts GROUP BY {keys}")
    keys = ', '.join(RETURN_KEYS)
    op.execute(f"INSERT INTO analytics_daily_returns ({keys}, contacts, returned, resolved, resolve_sum) "
               f"SELECT {keys}, COUNT(*), SUM(CASE WHEN repeat THEN 1 ELSE 0 END), 0, 0 "
               f"FROM analytics_quality_facts WHERE type = 'contact' GROUP BY {keys}")


def downgrade() -> None:
    for name in ('analytics_daily_handoffs', 'analytics_daily_paths', 'analytics_daily_returns'):
        op.drop_index(f'ix_{name}_unit', table_name=name)
        op.drop_table(name)
    op.drop_index('ix_analytics_handoff_facts_day', table_name='analytics_handoff_facts')
    op.drop_table('analytics_handoff_facts')
    with op.batch_alter_table('analytics_quality_facts', schema=None) as batch_op:
        for name in ('handed_off', 'path_contacts', 'path', 'resolve_seconds', 'next_channel'):
            batch_op.drop_column(name)
