"""The user's working state in git terms: the repository, snapshots and run worktrees."""
