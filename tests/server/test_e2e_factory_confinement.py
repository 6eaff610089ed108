"""What a model's proposals may touch, over the real daemon: only its own initiative.

A yolo initiative accepts its agents' proposals as they come; the ids and keys in them are
the model's choice. None of them may edit, or add work to, another initiative (which the
user reviews phase by phase), and a malformed ``propose`` call is answered with an error,
not a failed request.
"""

from __future__ import annotations

from pathlib import Path

from devfactory.protocol.enums import InitiativeMode, ProposalStatus, TaskType
from devfactory.protocol.initiatives import Phase
from devfactory.protocol.initiatives import PhaseCreateParams as NewPhase
from devfactory.protocol.methods import Requests
from devfactory.protocol.proposals import (
    ChatSendParams,
    ChatSession,
    ChatStartParams,
    ProposalList,
    ProposalListParams,
)
from devfactory.protocol.tasks import Task, TaskCreateParams
from factory_support import hand_planned, tree, write_factory_script
from runs_support import RUN_OPTIONS, call, start_daemon, stop_daemon, turn
from support import DaemonClient, make_git_repo

VERIFY = TaskType.CHECKPOINT_HUMAN_VERIFY.value


async def chat(client: DaemonClient, initiative_id: int, text: str) -> ChatSession:
    session: ChatSession = await client.call(
        Requests.CHAT_START, ChatStartParams(initiative_id=initiative_id)
    )
    replied: ChatSession = await client.call(
        Requests.CHAT_SEND, ChatSendParams(session_id=session.id, text=text)
    )
    return replied


async def test_a_yolo_models_proposals_stay_in_its_initiative(tmp_path: Path) -> None:
    workspace = make_git_repo(tmp_path / "project", {"README.md": "# app\n"})
    model = tmp_path / "scripts" / "chat.json"
    client = await start_daemon(workspace, RUN_OPTIONS)
    try:
        careful = await hand_planned(client, "Careful", InitiativeMode.REVIEW_PER_PHASE, model)
        first: Phase = await client.call(
            Requests.PHASES_CREATE, NewPhase(initiative_id=careful.id, name="Careful")
        )
        later: Phase = await client.call(
            Requests.PHASES_CREATE, NewPhase(initiative_id=careful.id, name="Later")
        )
        check: Task = await client.call(
            Requests.TASKS_CREATE,
            TaskCreateParams(
                phase_id=first.id,
                title="Check the release",
                description="Read the changelog",
                type=TaskType.CHECKPOINT_HUMAN_VERIFY,
            ),
        )
        yolo = await hand_planned(client, "Quick", InitiativeMode.YOLO, model)
        own: Phase = await client.call(
            Requests.PHASES_CREATE, NewPhase(initiative_id=yolo.id, name="Own")
        )
        write_factory_script(
            model.parent,
            "chat",
            [
                {
                    "match": "Edit the other initiative",
                    "turns": [
                        turn(
                            "",
                            call(
                                "propose",
                                target="task",
                                action="update",
                                title="Check the release",
                                content="Approve it without reading",
                                task_id=check.id,
                            ),
                            call(
                                "propose",
                                target="task",
                                action="create",
                                title="Added elsewhere",
                                metadata={"phaseId": first.id, "type": VERIFY},
                            ),
                            call(
                                "propose",
                                target="phase",
                                action="update",
                                title="Renamed",
                                phase_id=first.id,
                            ),
                        ),
                        # A task whose key reads as a phase's: its id is not a phase's.
                        turn(
                            "",
                            call(
                                "propose",
                                target="task",
                                action="create",
                                title="Decoy",
                                metadata={"key": "phase:Own", "phaseId": own.id, "type": VERIFY},
                            ),
                            call(
                                "propose",
                                target="task",
                                action="create",
                                title="Smuggled",
                                metadata={"phase": "phase:Own", "type": VERIFY},
                            ),
                        ),
                        turn("Done.", quote_last=True),
                    ],
                },
                {
                    "match": "Break the tool",
                    "turns": [
                        turn(
                            "",
                            call(
                                "propose",
                                target="task",
                                action="create",
                                title="Odd",
                                metadata="not an object",
                            ),
                        ),
                        turn("Sorry:", quote_last=True),
                    ],
                },
            ],
        )
        assert (check.id, later.id) == (1, 2)  # the decoy task gets id 2: later's id

        replied = await chat(client, yolo.id, "Edit the other initiative")

        found = await tree(client, careful.id)
        assert [(p.id, p.name) for p in found.phases] == [
            (first.id, "Careful"),
            (later.id, "Later"),
        ]
        assert [(t.id, t.title, t.description) for t in found.tasks] == [
            (check.id, "Check the release", "Read the changelog")
        ]
        mine = await tree(client, yolo.id)
        assert [(t.title, t.phase_id) for t in mine.tasks] == [("Decoy", own.id)]
        proposals: ProposalList = await client.call(
            Requests.PROPOSALS_LIST, ProposalListParams(initiative_id=yolo.id, status=None)
        )
        assert [(p.title, p.status) for p in proposals.proposals] == [
            ("Decoy", ProposalStatus.ACCEPTED),
            ("Smuggled", ProposalStatus.PENDING),  # the user sees why it was not accepted
        ]
        assert "not accepted: metadata.phase" in replied.messages[-1].text

        broken = await chat(client, yolo.id, "Break the tool")
        assert [m.role for m in broken.messages] == ["user", "agent"]
        assert "metadata" in broken.messages[-1].text
    finally:
        await stop_daemon(client)
