"""Amazon lifecycle after import: Commerce sync status, buyer cancellation requests

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 21:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import bridge.storage.models


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('amazon_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('commerce_synced_status', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('commerce_error', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('commerce_checked_at', bridge.storage.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('buyer_cancel_requested', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('buyer_cancel_reason', sa.String(length=255), nullable=True))
        batch_op.create_index('ix_amazon_order_store_cancel_request', ['store_id', 'buyer_cancel_requested'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('amazon_order', schema=None) as batch_op:
        batch_op.drop_index('ix_amazon_order_store_cancel_request')
        batch_op.drop_column('buyer_cancel_reason')
        batch_op.drop_column('buyer_cancel_requested')
        batch_op.drop_column('commerce_checked_at')
        batch_op.drop_column('commerce_error')
        batch_op.drop_column('commerce_synced_status')
