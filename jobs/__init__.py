"""RQ entry points: sync per store, import per order, actions to Amazon; scheduler and worker commands."""
