"""admin: ship-by / deliver-by sorting, premium shipping, per-store roles

Revision ID: 0007
Revises: 0003
Create Date: 2026-11-29 21:00:00
"""
from alembic import op
import sqlalchemy as sa
import bridge.storage.models


revision = '0007'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('amazon_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('latest_delivery_date', bridge.storage.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('is_premium', sa.Boolean(), server_default='0', nullable=False))
        batch_op.create_index('ix_amazon_order_store_ship_by', ['store_id', 'latest_ship_date'], unique=False)
        batch_op.create_index('ix_amazon_order_store_deliver_by', ['store_id', 'latest_delivery_date'], unique=False)

    op.create_table(
        'user_store',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_user_store_store_id_store'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_user_store_user_id_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'store_id', name=op.f('pk_user_store')),
    )


def downgrade():
    op.drop_table('user_store')
    with op.batch_alter_table('amazon_order', schema=None) as batch_op:
        batch_op.drop_index('ix_amazon_order_store_deliver_by')
        batch_op.drop_index('ix_amazon_order_store_ship_by')
        batch_op.drop_column('is_premium')
        batch_op.drop_column('latest_delivery_date')
