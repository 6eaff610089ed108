"""What a pull or a push may name: a configured remote and a real branch name.

A request's ``remote`` goes on git's command line, where ``--upload-pack=<command>`` would be
run: only the names ``git remote`` lists are accepted, and the arguments follow ``--``. A pull
without a branch takes the current branch's upstream on that remote, else the branch of the
same name (git refuses a bare ``git pull origin`` when the branch tracks nothing).
"""

from __future__ import annotations

from ..errors import InvalidParams, InvalidState
from .runner import GitRunner


async def checked_remote(git: GitRunner, name: str) -> str:
    """``name`` if it is a configured remote; InvalidParams listing the remotes otherwise."""
    remotes = (await git.out("remote", audit=False)).split()
    if name not in remotes:
        configured = ", ".join(remotes) or "none"
        raise InvalidParams(
            f"remote {name!r} is not a configured remote (configured: {configured}); "
            "add it with git remote add <name> <url>"
        )
    return name


async def checked_branch(git: GitRunner, name: str) -> str:
    """``name`` if git accepts it as a branch name; InvalidParams otherwise."""
    valid = (
        not name.startswith("-")
        and (await git.run("check-ref-format", f"refs/heads/{name}", check=False, audit=False)).ok
    )
    if not valid:
        raise InvalidParams(f"{name!r} is not a branch name")
    return name


async def pull_branch(git: GitRunner, remote: str) -> str:
    """The branch to pull from ``remote`` when the request names none."""
    current = await git.run("symbolic-ref", "--quiet", "--short", "HEAD", check=False, audit=False)
    if not current.ok:
        raise InvalidState("the workspace is on a detached HEAD: pass branch to pull one")
    branch = current.stdout.strip()
    tracked = await git.out(
        "for-each-ref",
        "--format=%(upstream:remotename)%00%(upstream:remoteref)",
        f"refs/heads/{branch}",
        audit=False,
    )
    upstream_remote, _, upstream_ref = tracked.partition("\0")
    if upstream_remote == remote and upstream_ref.startswith("refs/heads/"):
        return upstream_ref.removeprefix("refs/heads/")
    return branch


def no_such_branch(remote: str, branch: str) -> str:
    return (
        f"{remote} has no branch {branch}: pass the branch to pull, or set this branch's "
        f"upstream with git branch --set-upstream-to={remote}/<branch>"
    )
