"""Git plumbing the daemon uses: an audited runner, snapshots and worktrees."""
