"""analytics: satisfaction surveys per local day × org unit × channel × agent × queue (the reports' 满意度),
kept from the surveys' events, with a fact row per survey; backfilled from sla_surveys

Revision ID: 0712_analytics_surveys
Revises: 0711_analytics_agent_days
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0712_analytics_surveys'
down_revision: str | Sequence[str] | None = '0711_analytics_agent_days'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = '0505_sla_five_point_scale'  # answers on the 1-5 scale (not a head)

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
KEYS = ('day', 'org_unit_id', 'channel', 'agent_id', 'queue_key')
#: answered as kefu.analytics.satisfaction.fact_of counts it; satisfied: 4 or 5 (kefu.sla.survey_reply's
#: is_satisfied, SATISFIED = 4)
ANSWERED = "(status = 'answered' AND choice IS NOT NULL)"


def upgrade() -> None:
    op.create_table('analytics_survey_facts',
    sa.Column('survey_id', ID, autoincrement=False, nullable=False),
    sa.Column('day', sa.Integer(), nullable=False),
    sa.Column('org_unit_id', ID, nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('agent_id', ID, nullable=False),
    sa.Column('queue_key', sa.String(length=40), nullable=False),
    sa.Column('answered', sa.Boolean(), nullable=False),
    sa.Column('satisfied', sa.Boolean(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('survey_id', name=op.f('pk_analytics_survey_facts'))
    )
    op.create_table('analytics_daily_surveys',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('day', sa.Integer(), nullable=False),
    sa.Column('org_unit_id', ID, nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('agent_id', ID, nullable=False),
    sa.Column('queue_key', sa.String(length=40), nullable=False),
    sa.Column('sent', sa.Integer(), nullable=False),
    sa.Column('answered', sa.Integer(), nullable=False),
    sa.Column('satisfied', sa.Integer(), nullable=False),
    sa.Column('score_total', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_daily_surveys')),
    sa.UniqueConstraint(*KEYS, name='uq_analytics_daily_surveys_key')
    )
    op.create_index('ix_analytics_daily_surveys_unit', 'analytics_daily_surveys', ['org_unit_id', 'day'])
    if op.get_bind().dialect.name == 'postgresql':
        day = "CAST(FLOOR((EXTRACT(EPOCH FROM sent_at) + 28800) / 86400) AS INTEGER)"
    else:
        day = "((CAST(strftime('%s', sent_at) AS INTEGER) + 28800) / 86400)"
    op.execute(f"INSERT INTO analytics_survey_facts (survey_id, day, org_unit_id, channel, agent_id, queue_key, "
               f"answered, satisfied, score) SELECT id, {day}, org_unit_id, channel, COALESCE(agent_id, 0), "
               f"COALESCE(queue_key, ''), {ANSWERED}, ({ANSWERED} AND choice >= 4), "
               f"CASE WHEN {ANSWERED} THEN choice ELSE 0 END FROM sla_surveys")
    keys = ', '.join(KEYS)
    op.execute(f"INSERT INTO analytics_daily_surveys ({keys}, sent, answered, satisfied, score_total) "
               f"SELECT {keys}, COUNT(*), SUM(CASE WHEN answered THEN 1 ELSE 0 END), "
               f"SUM(CASE WHEN satisfied THEN 1 ELSE 0 END), SUM(score) FROM analytics_survey_facts "
               f"GROUP BY {keys}")


def downgrade() -> None:
    op.drop_index('ix_analytics_daily_surveys_unit', table_name='analytics_daily_surveys')
    op.drop_table('analytics_daily_surveys')
    op.drop_table('analytics_survey_facts')
