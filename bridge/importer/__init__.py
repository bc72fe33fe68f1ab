"""Turning Amazon orders into Commerce orders: import rules, payload builder, pipeline."""
