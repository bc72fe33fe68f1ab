"""admin: one covering index for All Orders' filters (replaces the (store_id, status) index)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 00:00:00
"""
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

GRID_COLUMNS = [
    'store_id', 'status', 'import_state', 'purchase_date', 'order_total',
    'is_prime', 'is_premium', 'buyer_cancel_requested', 'buyer_name',
]


def upgrade():
    with op.batch_alter_table('amazon_order', schema=None) as batch_op:
        batch_op.create_index('ix_amazon_order_store_grid', GRID_COLUMNS, unique=False)
        batch_op.drop_index('ix_amazon_order_store_status')


def downgrade():
    with op.batch_alter_table('amazon_order', schema=None) as batch_op:
        batch_op.create_index('ix_amazon_order_store_status', ['store_id', 'status'], unique=False)
        batch_op.drop_index('ix_amazon_order_store_grid')
