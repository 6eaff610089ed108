"""``devfactory/workspace/*`` against the real daemon: the editor shows what a workspace's own
files set that waits for the user's trust, trusts exactly what the user saw (values changed
since are refused), and takes the trust back; a restarted daemon applies what was trusted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devfactory.protocol import errors as codes
from devfactory.protocol.commands import CommandPolicy
from devfactory.protocol.methods import Capabilities, Requests
from devfactory.protocol.project import Health
from devfactory.protocol.trust import TrustSource, WorkspaceTrust, WorkspaceTrustParams
from devfactory.server import trust
from runs_support import start_daemon, stop_daemon
from support import SERVER_COMMAND, DaemonClient, initialize_params, make_client, make_git_repo

SETTINGS = "[index]\nenabled = false\n[commands]\nsandbox = false\n"
HELD = {"commands": {"sandbox": False}}
POLICY = '[[allow]]\nprogram = "make"\n'
SANDBOX_OFF = "disabled by the commands.sandbox setting"
WAITING = ("sets commands.sandbox", "is the workspace's own command policy")


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return make_git_repo(
        tmp_path / "ws", {"devfactory.toml": SETTINGS, ".devfactory/commands.toml": POLICY}
    )


def status(root: Path, trusted: bool, held: object = HELD) -> WorkspaceTrust:
    sources = {"devfactory.toml": held, ".devfactory/commands.toml": POLICY}
    return WorkspaceTrust(
        root=str(root),
        sources=[
            TrustSource(
                source="devfactory.toml",
                path=str(root / "devfactory.toml"),
                text=json.dumps(held, indent=2, sort_keys=True),
                trusted=trusted,
            ),
            TrustSource(
                source=".devfactory/commands.toml",
                path=str(root / ".devfactory/commands.toml"),
                text=POLICY.rstrip("\n"),
                trusted=trusted,
            ),
        ],
        digest=trust.digest(sources),
        trusted=trusted,
    )


async def sandbox_reason(daemon: DaemonClient) -> str | None:
    health: Health = await daemon.call(Requests.HEALTH)
    return health.sandbox.reason


async def test_the_editor_trusts_what_the_user_saw_and_revokes_it(
    daemon: DaemonClient, workspace: Path
) -> None:
    shown = await daemon.call(Requests.WORKSPACE_TRUST_STATUS)
    assert shown == status(workspace, trusted=False)
    assert await sandbox_reason(daemon) != SANDBOX_OFF

    trusted = await daemon.call(Requests.WORKSPACE_TRUST, WorkspaceTrustParams(digest=shown.digest))
    assert trusted == status(workspace, trusted=True)
    assert await daemon.call(Requests.WORKSPACE_TRUST_STATUS) == trusted

    revoked = await daemon.call(Requests.WORKSPACE_REVOKE_TRUST)
    assert revoked == status(workspace, trusted=False)


async def test_values_changed_after_the_review_are_refused_not_trusted(
    daemon: DaemonClient, workspace: Path
) -> None:
    shown = await daemon.call(Requests.WORKSPACE_TRUST_STATUS)
    (workspace / "devfactory.toml").write_text(SETTINGS + "allow_unsandboxed = true\n")
    with pytest.raises(Exception, match="changed since you reviewed them") as refused:
        await daemon.call(Requests.WORKSPACE_TRUST, WorkspaceTrustParams(digest=shown.digest))
    assert getattr(refused.value, "code", None) == codes.INVALID_STATE
    held = {"commands": {"sandbox": False, "allowUnsandboxed": True}}
    assert await daemon.call(Requests.WORKSPACE_TRUST_STATUS) == status(workspace, False, held)


async def test_a_workspace_without_such_settings_has_nothing_to_trust(
    daemon: DaemonClient, workspace: Path
) -> None:
    (workspace / "devfactory.toml").write_text("[index]\nenabled = false\n")
    (workspace / ".devfactory/commands.toml").unlink()
    empty = await daemon.call(Requests.WORKSPACE_TRUST_STATUS)
    assert empty == WorkspaceTrust(
        root=str(workspace), sources=[], digest=trust.digest({}), trusted=True
    )
    with pytest.raises(Exception, match="sets nothing that needs your trust"):
        await daemon.call(Requests.WORKSPACE_TRUST, WorkspaceTrustParams(digest=empty.digest))


async def test_a_restarted_daemon_applies_what_was_trusted(workspace: Path) -> None:
    daemon = await start_daemon(workspace, None)
    try:
        assert any("commands.sandbox" in m.message for m in daemon.messages)
        shown = await daemon.call(Requests.WORKSPACE_TRUST_STATUS)
        await daemon.call(Requests.WORKSPACE_TRUST, WorkspaceTrustParams(digest=shown.digest))
    finally:
        await stop_daemon(daemon)
    daemon = await start_daemon(workspace, None)
    try:
        assert await sandbox_reason(daemon) == SANDBOX_OFF
        assert not any("commands.sandbox" in m.message for m in daemon.messages)
    finally:
        await stop_daemon(daemon)


@pytest.mark.parametrize("reviews", [False, True], ids=["plain-client", "trust-reviewing-editor"])
async def test_an_editor_that_reviews_trust_gets_no_second_warning(
    workspace: Path, reviews: bool
) -> None:
    """The editors warn of settings awaiting trust themselves, with a Review and trust action
    (``Capabilities.TRUST_REVIEW``); other clients get the daemon's warnings, which name
    ``devfactory trust``."""
    client = make_client()
    await client.start_io(*SERVER_COMMAND)
    params = initialize_params(workspace)
    params.capabilities.experimental = {Capabilities.TRUST_REVIEW: reviews}
    await client.initialize_session(params)
    try:
        await client.call(Requests.HEALTH)  # once the commands feature started (its warning)
        shown = [w for m in client.messages for w in WAITING if w in m.message]
        policy: CommandPolicy = await client.call(Requests.COMMANDS_POLICY)
    finally:
        await stop_daemon(client)
    assert shown == ([] if reviews else list(WAITING))
    assert [WAITING[1] in problem for problem in policy.problems] == [True]  # still on the wire
