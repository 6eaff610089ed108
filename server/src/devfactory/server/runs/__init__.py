"""Agent runs: the state machine, the scheduler and the per-run workers."""
