"""Fail closed without the sandbox: the user decides whether project code runs unconfined.

Outside bubblewrap a test suite or build script runs with the daemon's rights: it can plant
``.git/hooks``, read the daemon's ``/proc/<pid>/environ`` or ``~/.ssh``. So when the sandbox
is unavailable, a command that runs code (tests, builds, package scripts: any entry that is
not read-only) runs only with the user's consent: the ``allow_unsandboxed`` setting, or an
answer to a question the run asks (``devfactory/question``), remembered for the run. A
command without a way to ask (``devfactory/commands/run``) is refused with the setting to
change. An entry with ``sandbox = false`` is the user's consent for that entry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from .report import short

Ask = Callable[[str, list[str]], Awaitable[str]]
"""Asks the run's user a question with choices and returns the answer (the run waits)."""

REFUSE = "Refuse"
ALLOW_ONCE = "Run this command unsandboxed"
ALLOW_RUN = "Run this run's commands unsandboxed"
CHOICES = [REFUSE, ALLOW_ONCE, ALLOW_RUN]
"""Refusing comes first: an automatic answer (``--yes`` takes the first choice) stays safe."""
REFUSED = "the user refused to run the project's code without the OS sandbox in this run"


def question(command: str, why_no_sandbox: str) -> str:
    return (
        f"The OS sandbox is unavailable ({why_no_sandbox}). `{short(command, 200)}` runs the"
        " project's code (tests, build or package scripts), which could then read your files and"
        " secrets and change anything your user can. Run it without the sandbox?"
    )


class UnsandboxedConsent:
    """The user's answers about running code without the sandbox, per run."""

    def __init__(self) -> None:
        self._runs: dict[int, bool] = {}
        """run id -> the standing answer for the rest of the run (allowed or refused)."""

    async def refusal(
        self, run_id: int, command: str, why_no_sandbox: str, *, setting: bool, ask: Ask | None
    ) -> str | None:
        """None when ``command`` may run unsandboxed; else why it must not."""
        if setting:
            return None
        standing = self._runs.get(run_id)
        if standing is not None:
            return None if standing else REFUSED
        if ask is None:
            return (
                f"the OS sandbox is unavailable ({why_no_sandbox}) and this command runs the"
                " project's code; set `allow_unsandboxed = true` in the [commands] settings"
                " (or .devfactory/commands.toml) to run such commands without it"
            )
        answer = (await ask(question(command, why_no_sandbox), list(CHOICES))).strip()
        if answer == ALLOW_ONCE:
            return None
        self._runs[run_id] = answer == ALLOW_RUN
        if answer == ALLOW_RUN:
            return None
        return REFUSED
