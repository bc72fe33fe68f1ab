"""operations: backfill runs, reconcile runs and findings

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa
import bridge.storage.models


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'backfill_run',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('created_after', bridge.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('created_before', bridge.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('next_token', sa.Text(), nullable=True),
        sa.Column('listed', sa.Boolean(), nullable=False),
        sa.Column('pages', sa.Integer(), nullable=False),
        sa.Column('seen', sa.Integer(), nullable=False),
        sa.Column('imported', sa.Integer(), nullable=False),
        sa.Column('errors', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('started_at', bridge.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('finished_at', bridge.storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_backfill_run_store_id_store'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_backfill_run')),
    )
    op.create_index('ix_backfill_run_store', 'backfill_run', ['store_id', 'id'], unique=False)
    op.create_table(
        'reconcile_run',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('since', bridge.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('started_at', bridge.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('finished_at', bridge.storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column('result', sa.String(length=16), nullable=False),
        sa.Column('amazon_orders', sa.Integer(), nullable=False),
        sa.Column('commerce_orders', sa.Integer(), nullable=False),
        sa.Column('fixed', sa.Integer(), nullable=False),
        sa.Column('actor', sa.String(length=64), nullable=False),
        sa.Column('error_text', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_reconcile_run_store_id_store'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reconcile_run')),
    )
    op.create_index('ix_reconcile_run_store', 'reconcile_run', ['store_id', 'started_at'], unique=False)
    op.create_table(
        'reconcile_finding',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('amazon_order_id', sa.String(length=32), nullable=True),
        sa.Column('magento_entity_id', sa.Integer(), nullable=True),
        sa.Column('detail', sa.Text(), nullable=False),
        sa.Column('fixed', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['run_id'], ['reconcile_run.id'], name=op.f('fk_reconcile_finding_run_id_reconcile_run'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reconcile_finding')),
    )
    op.create_index('ix_reconcile_finding_run', 'reconcile_finding', ['run_id', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_reconcile_finding_run', table_name='reconcile_finding')
    op.drop_table('reconcile_finding')
    op.drop_index('ix_reconcile_run_store', table_name='reconcile_run')
    op.drop_table('reconcile_run')
    op.drop_index('ix_backfill_run_store', table_name='backfill_run')
    op.drop_table('backfill_run')
