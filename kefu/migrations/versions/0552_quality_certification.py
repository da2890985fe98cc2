"""quality: training courses, exams and skill certificates

Revision ID: 0552_quality_certification
Revises: 0551_quality

"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0552_quality_certification'
down_revision: str | Sequence[str] | None = '0551_quality'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('cert_courses',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('skill', sa.String(length=40), nullable=False),
    sa.Column('org_unit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('article_ids', sa.JSON(), nullable=False),
    sa.Column('questions', sa.JSON(), nullable=False),
    sa.Column('pass_percent', sa.Integer(), nullable=False),
    sa.Column('valid_days', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('pass_percent BETWEEN 1 AND 100', name=op.f('ck_cert_courses_pass_percent')),
    sa.CheckConstraint('valid_days >= 1', name=op.f('ck_cert_courses_valid_days')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_cert_courses_created_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], name=op.f('fk_cert_courses_org_unit_id_org_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cert_courses')),
    sa.UniqueConstraint('key', name=op.f('uq_cert_courses_key'))
    )
    with op.batch_alter_table('cert_courses', schema=None) as batch_op:
        batch_op.create_index('ix_cert_courses_skill', ['skill'], unique=False)

    op.create_table('cert_attempts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('course_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('passed', sa.Boolean(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['cert_courses.id'], name=op.f('fk_cert_attempts_course_id_cert_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_cert_attempts_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cert_attempts'))
    )
    with op.batch_alter_table('cert_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_cert_attempts_user', ['user_id', 'course_id', 'at'], unique=False)

    op.create_table('certificates',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('skill', sa.String(length=40), nullable=False),
    sa.Column('course_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('attempt_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_unit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('warned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['attempt_id'], ['cert_attempts.id'], name=op.f('fk_certificates_attempt_id_cert_attempts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['course_id'], ['cert_courses.id'], name=op.f('fk_certificates_course_id_cert_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_certificates_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificates'))
    )
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.create_index('ix_certificates_expiry', ['warned_at', 'expires_at'], unique=False)
        batch_op.create_index('ix_certificates_user_skill', ['user_id', 'skill', 'expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index('ix_certificates_user_skill')
        batch_op.drop_index('ix_certificates_expiry')

    op.drop_table('certificates')
    with op.batch_alter_table('cert_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_cert_attempts_user')

    op.drop_table('cert_attempts')
    with op.batch_alter_table('cert_courses', schema=None) as batch_op:
        batch_op.drop_index('ix_cert_courses_skill')

    op.drop_table('cert_courses')
