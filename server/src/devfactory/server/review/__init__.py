"""Change review: proposals from run worktrees, hunk-level decisions, safe apply."""
