"""What each factory agent is told: the planning prompts and a task's prompt.

A task's prompt carries the task, the initiative's goal, the handoffs it needs and the
summaries of the tasks it depends on; its first line names the task (``Task 7: ...``), which
is also what lets a scripted model tell the agents of one initiative apart.
"""

from __future__ import annotations

from collections.abc import Iterable

from devfactory.protocol.initiatives import Initiative, Phase
from devfactory.protocol.proposals import ContextArtifact
from devfactory.protocol.tasks import Task

from .handoffs import render

HANDOFF_HINT = (
    "Hand your result over with the submit_handoff tool (schema {schema}); if it is refused, "
    "read the error, correct the content and submit again. Then call finish."
)


def analyst_prompt(initiative: Initiative) -> str:
    return (
        f"Specify: {initiative.name}\n\n# Goal\n{initiative.goal}\n\n"
        "Study the project and turn the goal into a software specification: the core idea, "
        "the requirements, user stories and high-level features. "
        + HANDOFF_HINT.format(schema="software_specification")
    )


def architect_prompt(initiative: Initiative, artifacts: Iterable[ContextArtifact]) -> str:
    return (
        f"Plan: {initiative.name}\n\n# Goal\n{initiative.goal}\n\n"
        + _handoffs(artifacts)
        + "Design how to build it and break the work into phases of tasks for the role agents "
        "(backend, frontend, qa, devops, documentation...). Give each task a key, its phase "
        "and the keys of the tasks it builds on; tasks without a dependency between them run "
        "in parallel. " + HANDOFF_HINT.format(schema="implementation_plan")
    )


def task_prompt(
    *,
    initiative: Initiative,
    phase: Phase,
    task: Task,
    artifacts: Iterable[ContextArtifact],
    dependencies: Iterable[Task],
    comments: str = "",
) -> str:
    sections = [
        f"Task {task.id}: {task.title}",
        f"# Initiative\n{initiative.name}: {initiative.goal}",
        f"# Phase\n{phase.name}" + (f": {phase.description}" if phase.description else ""),
    ]
    if task.description:
        sections.append(f"# What to do\n{task.description}")
    if comments:
        sections.append(f"# Review comments to address\n{comments}")
    if handoffs := _handoffs(artifacts):
        sections.append(handoffs.strip())
    done = [
        f"- Task {dep.id} ({dep.agent.value}): {dep.title} — {dep.summary or 'no summary'}"
        for dep in dependencies
    ]
    if done:
        sections.append(
            "# Work this builds on (already merged into your branch)\n" + "\n".join(done)
        )
    sections.append(
        "Work in your worktree; when you need something only another task's agent knows, ask "
        "it with ask_agent (its task id and your question). Finish with a summary that the "
        "tasks building on yours can rely on."
    )
    return "\n\n".join(sections)


def _handoffs(artifacts: Iterable[ContextArtifact]) -> str:
    rendered = [render(a.name, a.content) for a in artifacts]
    return "# Handed to you\n" + "\n\n".join(rendered) + "\n\n" if rendered else ""
