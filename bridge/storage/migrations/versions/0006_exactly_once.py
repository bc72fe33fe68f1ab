"""exactly once: create in doubt, stock ledger

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 21:05:00.000000
"""
from alembic import op
import sqlalchemy as sa
import bridge.storage.models


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('amazon_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('create_in_doubt_until', bridge.storage.models.UTCDateTime(timezone=True),
                                      nullable=True))

    op.create_table('stock_move',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=255), nullable=False),
    sa.Column('source_code', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('qty', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('qty_before', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('qty_after', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('sent_at', bridge.storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('applied_at', bridge.storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', bridge.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['amazon_order.id'], name=op.f('fk_stock_move_order_id_amazon_order'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_move')),
    sa.UniqueConstraint('order_id', 'sku', 'kind', name='uq_stock_move_order_sku_kind')
    )
    op.create_index('ix_stock_move_sku_state', 'stock_move', ['source_code', 'sku', 'state'], unique=False)


def downgrade():
    op.drop_index('ix_stock_move_sku_state', table_name='stock_move')
    op.drop_table('stock_move')
    with op.batch_alter_table('amazon_order', schema=None) as batch_op:
        batch_op.drop_column('create_in_doubt_until')
