"""outbox: action intent and states, repeated events counted, Commerce -> Amazon settings and cursor

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 21:05:00
"""
from alembic import op
import sqlalchemy as sa
import bridge.storage.models


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbound_action', schema=None) as batch_op:
        batch_op.add_column(sa.Column('feed_type', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('feed_document_id', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('message_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('intent_at', bridge.storage.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('next_attempt_at', bridge.storage.models.UTCDateTime(), nullable=True))
    # The states are named as Amazon's answers are now.
    for old, new in (('sent', 'submitted'), ('done', 'accepted'), ('failed', 'rejected')):
        op.execute(sa.text("UPDATE outbound_action SET state = :new WHERE state = :old").bindparams(old=old, new=new))

    with op.batch_alter_table('order_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('count', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('last_at', bridge.storage.models.UTCDateTime(), nullable=True))

    with op.batch_alter_table('store_order_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('no_tracking_policy', sa.String(length=16), server_default='hold',
                                      nullable=False))
        batch_op.add_column(sa.Column('adjustment_reason', sa.String(length=64), server_default='CustomerReturn',
                                      nullable=False))
        batch_op.add_column(sa.Column('commerce_cancel_reason', sa.String(length=64),
                                      server_default='GeneralAdjustment', nullable=False))

    op.create_table(
        'commerce_cursor',
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('shipments_after', bridge.storage.models.UTCDateTime(), nullable=True),
        sa.Column('creditmemos_after', bridge.storage.models.UTCDateTime(), nullable=True),
        sa.Column('orders_after', bridge.storage.models.UTCDateTime(), nullable=True),
        sa.Column('updated_at', bridge.storage.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_commerce_cursor_store_id_store'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('store_id', name=op.f('pk_commerce_cursor')),
    )


def downgrade():
    op.drop_table('commerce_cursor')
    with op.batch_alter_table('store_order_settings', schema=None) as batch_op:
        batch_op.drop_column('commerce_cancel_reason')
        batch_op.drop_column('adjustment_reason')
        batch_op.drop_column('no_tracking_policy')
    with op.batch_alter_table('order_event', schema=None) as batch_op:
        batch_op.drop_column('last_at')
        batch_op.drop_column('count')
    for old, new in (('sent', 'submitted'), ('done', 'accepted'), ('failed', 'rejected')):
        op.execute(sa.text("UPDATE outbound_action SET state = :old WHERE state = :new").bindparams(old=old, new=new))
    with op.batch_alter_table('outbound_action', schema=None) as batch_op:
        batch_op.drop_column('next_attempt_at')
        batch_op.drop_column('attempts')
        batch_op.drop_column('intent_at')
        batch_op.drop_column('message_id')
        batch_op.drop_column('feed_document_id')
        batch_op.drop_column('feed_type')
