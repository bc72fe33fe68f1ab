"""admin: ship-by / deliver-by sorting, premium shipping, per-store roles

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 21:00:00
"""
from alembic import op
import sqlalchemy as sa
import bridge.storage.models


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('amazon_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('latest_delivery_date', bridge.storage.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('is_premium', sa.Boolean(), server_default='0', nullable=False))
        batch_op.create_index('ix_amazon_order_store_ship_by', ['store_id', 'latest_ship_date'], unique=False)
        batch_op.create_index('ix_amazon_order_store_deliver_by', ['store_id', 'latest_delivery_date'], unique=False)

    _backfill()

    op.create_table(
        'user_store',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_user_store_store_id_store'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_user_store_user_id_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'store_id', name=op.f('pk_user_store')),
    )


def _backfill(batch: int = 1000):
    """Deliver-by and premium shipping of the orders already stored, from their snapshots (v2026 or v0), so
    All Orders sorts and filters them too; later snapshots fill them through the normal upsert."""
    from datetime import UTC, datetime

    def parse(value):
        if not isinstance(value, str) or not value:
            return None
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)

    order = sa.table(
        'amazon_order',
        sa.column('id', sa.Integer),
        sa.column('snapshot', sa.JSON),
        sa.column('latest_delivery_date', bridge.storage.models.UTCDateTime()),
        sa.column('is_premium', sa.Boolean),
    )
    conn = op.get_bind()
    last = 0
    while True:
        rows = conn.execute(
            sa.select(order.c.id, order.c.snapshot).where(order.c.id > last).order_by(order.c.id).limit(batch)
        ).all()
        if not rows:
            return
        for row_id, snap in rows:
            snap = snap if isinstance(snap, dict) else {}
            if "AmazonOrderId" in snap:
                deliver_by, premium = parse(snap.get("LatestDeliveryDate")), bool(snap.get("IsPremiumOrder"))
            else:
                window = (snap.get("fulfillment") or {}).get("deliverByWindow") if isinstance(
                    snap.get("fulfillment"), dict) else None
                deliver_by = parse(window.get("latestDateTime")) if isinstance(window, dict) else None
                premium = "PREMIUM" in (snap.get("programs") or [])
            if deliver_by is not None or premium:
                conn.execute(
                    order.update().where(order.c.id == row_id).values(latest_delivery_date=deliver_by, is_premium=premium)
                )
        last = rows[-1][0]


def downgrade():
    op.drop_table('user_store')
    with op.batch_alter_table('amazon_order', schema=None) as batch_op:
        batch_op.drop_index('ix_amazon_order_store_deliver_by')
        batch_op.drop_index('ix_amazon_order_store_ship_by')
        batch_op.drop_column('is_premium')
        batch_op.drop_column('latest_delivery_date')
