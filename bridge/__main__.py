"""`python -m bridge` is `amazon-bridge` (the demo starts its worker and scheduler this way)."""

from bridge.cli import main

main()
