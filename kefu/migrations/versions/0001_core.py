"""core schema

Revision ID: 0001_core
Revises:
Create Date: 2026-11-23 14:12:54.368799
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001_core'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The telecom category tree (DOMAIN.md): first level, then second-level entries.
CATEGORIES: list[tuple[str, str, str, list[tuple[str, str, str]]]] = [
    ("billing", "话费与账单", "Billing and charges", [
        ("unexplained_deduction", "不明扣费", "Unexplained deduction"), ("bill_query", "账单查询", "Bill query"),
        ("refund", "退费", "Refund"), ("balance_topup", "余额与充值", "Balance and top-up"),
        ("payment_failure", "缴费失败", "Payment failure"), ("overdue_suspension", "欠费停机", "Suspended for arrears")]),
    ("data", "流量", "Data traffic", [
        ("abnormal_usage", "流量异常消耗", "Data used too fast"), ("data_pack", "流量包", "Data pack"),
        ("overuse_charges", "超额收费", "Overuse charges"), ("speed_cap", "达量限速", "Speed limit after cap"),
        ("roaming_data", "漫游流量", "Roaming data")]),
    ("network", "网络与信号", "Network coverage and quality", [
        ("no_signal", "无信号", "No signal"), ("weak_coverage", "覆盖弱", "Weak coverage"),
        ("call_drops", "掉话", "Call drops"), ("slow_data", "上网慢", "Slow mobile data"),
        ("outage", "故障断网", "Outage"), ("volte_5g", "VoLTE/5G问题", "VoLTE / 5G issues")]),
    ("broadband", "宽带与固网", "Broadband and fixed line", [
        ("installation", "装机", "Installation"), ("repair", "报修", "Repair"),
        ("slow_unstable", "网速慢/掉线", "Slow or unstable"), ("relocation", "移机", "Relocation"),
        ("iptv", "IPTV", "IPTV"), ("landline", "固话", "Landline")]),
    ("plan", "套餐与资费", "Packages and plans", [
        ("plan_change", "套餐变更", "Plan change"), ("contract_terms", "合约条款", "Contract terms"),
        ("promotion_not_honoured", "活动未兑现", "Promotion not honoured"),
        ("benefits", "权益", "Membership benefits"), ("plan_advice", "资费推荐", "Better plan advice")]),
    ("vas", "增值业务", "Value-added services", [
        ("unrequested_subscription", "被订购", "Unrequested subscription"), ("sp_services", "SP业务", "SP services"),
        ("ringback_tone", "彩铃", "Ringback tone"), ("operator_apps", "运营商应用", "Operator apps"),
        ("unsubscribe", "退订", "Unsubscribe")]),
    ("roaming", "漫游", "Roaming", [
        ("international", "国际漫游", "International roaming"), ("activation", "漫游开通", "Roaming activation"),
        ("charges", "漫游费用", "Roaming charges")]),
    ("terminal", "终端", "Terminals", [
        ("handset_fault", "手机故障", "Handset fault"), ("operator_device", "合约机", "Device bought from operator"),
        ("sim_fault", "SIM卡故障", "SIM card fault"), ("router", "光猫/路由器", "Router / ONT")]),
    ("number", "号码与实名", "Real-name and number", [
        ("real_name", "实名登记", "Real-name registration"), ("sim_replacement", "补换卡", "SIM replacement"),
        ("cancellation", "销户", "Cancellation"), ("porting", "携号转网", "Number porting"),
        ("ownership_transfer", "过户", "Transfer of ownership"), ("secondary_card", "副卡", "Secondary card")]),
    ("service", "服务质量", "Service quality", [
        ("attitude", "服务态度", "Staff attitude"), ("store", "营业厅", "Store service"),
        ("hotline_reach", "热线难打", "Hotline hard to reach"), ("slow_response", "处理慢", "Slow response"),
        ("promise_broken", "承诺未兑现", "Promise not kept")]),
    ("spam", "骚扰与诈骗", "Spam and fraud", [
        ("spam_sms", "垃圾短信", "Spam SMS"), ("harassing_calls", "骚扰电话", "Harassing calls"),
        ("fraud", "诈骗", "Fraud"), ("marketing", "营销过多", "Too much marketing")]),
    ("other", "其他", "Other", []),
]

# Default tier rules (an admin edits them): first match wins.
TIER_RULES = [("diamond", "300.00", 60), ("gold", "158.00", 24), ("silver", "88.00", 12), ("standard", "0.00", 0)]


def _seed() -> None:
    categories = sa.table("categories", sa.column("id", sa.Integer), sa.column("parent_id", sa.Integer),
                          sa.column("key", sa.String), sa.column("name", sa.String),
                          sa.column("name_en", sa.String), sa.column("position", sa.Integer))
    conn = op.get_bind()
    for i, (key, name, name_en, children) in enumerate(CATEGORIES):
        conn.execute(categories.insert().values(key=key, name=name, name_en=name_en, position=i))
        pid = conn.execute(sa.select(categories.c.id).where(categories.c.key == key)).scalar_one()
        op.bulk_insert(categories, [
            {"parent_id": pid, "key": f"{key}.{k}", "name": n, "name_en": e, "position": j}
            for j, (k, n, e) in enumerate(children)])
    tier_rules = sa.table("tier_rules", sa.column("position", sa.Integer), sa.column("tier", sa.String),
                          sa.column("min_arpu", sa.Numeric), sa.column("min_tenure_months", sa.Integer))
    op.bulk_insert(tier_rules, [
        {"position": i, "tier": t, "min_arpu": a, "min_tenure_months": m} for i, (t, a, m) in enumerate(TIER_RULES)])
    settings = sa.table("customer_settings", sa.column("key", sa.String), sa.column("value", sa.String))
    op.bulk_insert(settings, [{"key": "vip_min_arpu", "value": "120.00"}])


def upgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table('categories',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('parent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('name_en', sa.String(length=80), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['categories.id'], name=op.f('fk_categories_parent_id_categories'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_categories')),
    sa.UniqueConstraint('key', name=op.f('uq_categories_key'))
    )
    op.create_table('customer_settings',
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_customer_settings'))
    )
    op.create_table('inbound_rejections',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('payload_excerpt', sa.Text(), nullable=True),
    sa.Column('payload_bytes', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_rejections'))
    )
    op.create_table('org_units',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('parent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=True),
    sa.Column('path', sa.String(length=400), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind in ('group','province','city')", name=op.f('ck_org_units_kind')),
    sa.ForeignKeyConstraint(['parent_id'], ['org_units.id'], name=op.f('fk_org_units_parent_id_org_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_units')),
    sa.UniqueConstraint('code', name=op.f('uq_org_units_code'))
    )
    with op.batch_alter_table('org_units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_org_units_path'), ['path'], unique=False)

    op.create_table('outbox_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('aggregate_type', sa.String(length=40), nullable=True),
    sa.Column('aggregate_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('org_unit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('dispatched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_events'))
    )
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_events_aggregate', ['aggregate_type', 'aggregate_id'], unique=False)
        batch_op.create_index('ix_outbox_events_pending', ['dispatched_at', 'id'], unique=False)

    op.create_table('skills',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_skills')),
    sa.UniqueConstraint('key', name=op.f('uq_skills_key'))
    )
    op.create_table('tier_rules',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('tier', sa.String(length=16), nullable=False),
    sa.Column('min_arpu', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('min_tenure_months', sa.Integer(), nullable=False),
    sa.CheckConstraint("tier in ('diamond','gold','silver','standard')", name=op.f('ck_tier_rules_tier')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tier_rules'))
    )
    with op.batch_alter_table('tier_rules', schema=None) as batch_op:
        batch_op.create_index('ix_tier_rules_position', ['position'], unique=False)

    op.create_table('customers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=True),
    sa.Column('org_unit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('plan', sa.String(length=100), nullable=True),
    sa.Column('arpu', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('tenure_months', sa.Integer(), nullable=False),
    sa.Column('share_voice', sa.Float(), nullable=False),
    sa.Column('share_data', sa.Float(), nullable=False),
    sa.Column('share_sms', sa.Float(), nullable=False),
    sa.Column('share_vas', sa.Float(), nullable=False),
    sa.Column('tier', sa.String(length=16), nullable=False),
    sa.Column('vip', sa.Boolean(), nullable=False),
    sa.Column('merged_into_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("tier in ('diamond','gold','silver','standard')", name=op.f('ck_customers_tier')),
    sa.CheckConstraint('arpu >= 0', name=op.f('ck_customers_arpu_nonneg')),
    sa.CheckConstraint('tenure_months >= 0', name=op.f('ck_customers_tenure_nonneg')),
    sa.ForeignKeyConstraint(['merged_into_id'], ['customers.id'], name=op.f('fk_customers_merged_into_id_customers'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], name=op.f('fk_customers_org_unit_id_org_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customers')),
    sa.UniqueConstraint('phone', name=op.f('uq_customers_phone'))
    )
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customers_org_unit_id'), ['org_unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_customers_tier'), ['tier'], unique=False)

    op.create_table('event_consumptions',
    sa.Column('consumer', sa.String(length=80), nullable=False),
    sa.Column('event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('handled_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['outbox_events.id'], name=op.f('fk_event_consumptions_event_id_outbox_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('consumer', 'event_id', name=op.f('pk_event_consumptions'))
    )
    op.create_table('users',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('org_unit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('authority_limit', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role in ('agent','support','expert','supervisor','analyst','admin')", name=op.f('ck_users_role')),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], name=op.f('fk_users_org_unit_id_org_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_org_unit_id'), ['org_unit_id'], unique=False)

    op.create_table('api_tokens',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash')),
    sa.UniqueConstraint('user_id', 'name', name='uq_api_tokens_user_name')
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index('ix_api_tokens_prefix', ['prefix'], unique=False)
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('auth_sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_auth_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_auth_sessions'))
    )
    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auth_sessions_user_id'), ['user_id'], unique=False)

    op.create_table('customer_identities',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('value', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_identities_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_identities')),
    sa.UniqueConstraint('kind', 'value', name='uq_customer_identities_kind_value')
    )
    with op.batch_alter_table('customer_identities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_identities_customer_id'), ['customer_id'], unique=False)

    op.create_table('tickets',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('priority', sa.String(length=8), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=True),
    sa.Column('category_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('org_unit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('assignee_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('merged_into_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('customer_tier', sa.String(length=16), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reply_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_reply_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("priority in ('low','normal','high','urgent')", name=op.f('ck_tickets_priority')),
    sa.CheckConstraint("status in ('new','assigned','in_progress','waiting_customer','waiting_support','resolved','closed','merged')", name=op.f('ck_tickets_status')),
    sa.CheckConstraint("type in ('inquiry','complaint','request','suggestion','appeal')", name=op.f('ck_tickets_type')),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_tickets_assignee_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_tickets_category_id_categories'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_tickets_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_tickets_customer_id_customers'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['merged_into_id'], ['tickets.id'], name=op.f('fk_tickets_merged_into_id_tickets'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], name=op.f('fk_tickets_org_unit_id_org_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tickets'))
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_assignee_status', ['assignee_id', 'status'], unique=False)
        batch_op.create_index('ix_tickets_customer', ['customer_id', 'opened_at'], unique=False)
        batch_op.create_index('ix_tickets_org_updated', ['org_unit_id', 'updated_at'], unique=False)
        batch_op.create_index('ix_tickets_status_updated', ['status', 'updated_at'], unique=False)
        batch_op.create_index('ix_tickets_updated', ['updated_at', 'id'], unique=False)

    op.create_table('user_skills',
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('skill_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.CheckConstraint('level between 1 and 5', name=op.f('ck_user_skills_level')),
    sa.ForeignKeyConstraint(['skill_id'], ['skills.id'], name=op.f('fk_user_skills_skill_id_skills'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_skills_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'skill_id', name=op.f('pk_user_skills'))
    )
    op.create_table('interactions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('org_unit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=True),
    sa.Column('offered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_message_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('agent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('external_ref', sa.String(length=255), nullable=True),
    sa.CheckConstraint("channel in ('voice','sms','email','wechat','im','weibo','app','web','webchat')", name=op.f('ck_interactions_channel')),
    sa.CheckConstraint("direction in ('inbound','outbound')", name=op.f('ck_interactions_direction')),
    sa.CheckConstraint("status in ('open','closed')", name=op.f('ck_interactions_status')),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_interactions_agent_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_interactions_customer_id_customers'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], name=op.f('fk_interactions_org_unit_id_org_units'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_interactions_ticket_id_tickets'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interactions'))
    )
    with op.batch_alter_table('interactions', schema=None) as batch_op:
        batch_op.create_index('ix_interactions_customer_offered', ['customer_id', 'offered_at'], unique=False)
        batch_op.create_index('ix_interactions_open_thread', ['customer_id', 'channel', 'status'], unique=False)
        batch_op.create_index('ix_interactions_org_offered', ['org_unit_id', 'offered_at'], unique=False)
        batch_op.create_index('ix_interactions_ticket', ['ticket_id'], unique=False)

    op.create_table('ticket_transitions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('from_status', sa.String(length=24), nullable=True),
    sa.Column('to_status', sa.String(length=24), nullable=False),
    sa.Column('actor_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_ticket_transitions_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_transitions_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_transitions'))
    )
    with op.batch_alter_table('ticket_transitions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_transitions_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('messages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('interaction_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('sender', sa.String(length=255), nullable=True),
    sa.Column('external_id', sa.String(length=255), nullable=True),
    sa.Column('author_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_messages_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['interaction_id'], ['interactions.id'], name=op.f('fk_messages_interaction_id_interactions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages')),
    sa.UniqueConstraint('channel', 'external_id', name='uq_messages_channel_external_id')
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_interaction', ['interaction_id', 'id'], unique=False)

    # ### end Alembic commands ###
    _seed()


def downgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_interaction')

    op.drop_table('messages')
    with op.batch_alter_table('ticket_transitions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_transitions_ticket_id'))

    op.drop_table('ticket_transitions')
    with op.batch_alter_table('interactions', schema=None) as batch_op:
        batch_op.drop_index('ix_interactions_ticket')
        batch_op.drop_index('ix_interactions_org_offered')
        batch_op.drop_index('ix_interactions_open_thread')
        batch_op.drop_index('ix_interactions_customer_offered')

    op.drop_table('interactions')
    op.drop_table('user_skills')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_updated')
        batch_op.drop_index('ix_tickets_status_updated')
        batch_op.drop_index('ix_tickets_org_updated')
        batch_op.drop_index('ix_tickets_customer')
        batch_op.drop_index('ix_tickets_assignee_status')

    op.drop_table('tickets')
    with op.batch_alter_table('customer_identities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_identities_customer_id'))

    op.drop_table('customer_identities')
    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auth_sessions_user_id'))

    op.drop_table('auth_sessions')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))
        batch_op.drop_index('ix_api_tokens_prefix')

    op.drop_table('api_tokens')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_org_unit_id'))

    op.drop_table('users')
    op.drop_table('event_consumptions')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customers_tier'))
        batch_op.drop_index(batch_op.f('ix_customers_org_unit_id'))

    op.drop_table('customers')
    with op.batch_alter_table('tier_rules', schema=None) as batch_op:
        batch_op.drop_index('ix_tier_rules_position')

    op.drop_table('tier_rules')
    op.drop_table('skills')
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_events_pending')
        batch_op.drop_index('ix_outbox_events_aggregate')

    op.drop_table('outbox_events')
    with op.batch_alter_table('org_units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_units_path'))

    op.drop_table('org_units')
    op.drop_table('inbound_rejections')
    op.drop_table('customer_settings')
    op.drop_table('categories')
    # ### end Alembic commands ###
