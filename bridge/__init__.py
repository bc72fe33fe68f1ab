"""Core of the Amazon → Magento bridge: domain, Amazon and Magento clients, storage, import.

Nothing in this package imports Flask or RQ, so it can run inside a worker, a CLI or a test alike.
"""
