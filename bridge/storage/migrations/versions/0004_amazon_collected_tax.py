"""tax collected by amazon setting

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 21:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('store_order_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('amazon_collected_tax', sa.String(length=16), nullable=False,
                                      server_default='exclude'))


def downgrade():
    with op.batch_alter_table('store_order_settings', schema=None) as batch_op:
        batch_op.drop_column('amazon_collected_tax')
