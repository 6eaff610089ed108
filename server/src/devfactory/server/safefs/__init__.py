"""Every file the daemon touches for a run goes through here: the path rules and the one
resolver that never follows a link out of its folder (the workspace or a run's worktree).

``names`` judges a relative path by its text alone (``..``, ``.git`` anywhere, ``.devfactory/``,
the settings and command-policy files, control and bidi characters, backslashes);
``tree.SafeTree`` reads, writes and deletes through directory descriptors opened without
following links, so a link swapped in at any moment makes the operation fail, never escape.
"""

from .names import PathRefused, check_path, protected_files, shown
from .tree import FileTooLarge, SafeTree

__all__ = ["FileTooLarge", "PathRefused", "SafeTree", "check_path", "protected_files", "shown"]
