"""CHANGELOG_AI.md entries: a run's entry goes on top, replaces the run's older one, and the
entries of several runs merge into the file as it is now instead of conflicting."""

from __future__ import annotations

from devfactory.server.review.changelog import HEADER, merge, with_entry


def entry(run: int, summary: str) -> str:
    return f"## Run {run}: task {run}\n\n- Date: 2025-01-01\n\n{summary}\n\nFiles:\n- `a.py`\n"


def test_an_entry_starts_a_changelog_and_goes_on_top_of_one() -> None:
    first = with_entry(None, entry(1, "one"))
    assert first == f"{HEADER}\n{entry(1, 'one')}"
    assert with_entry(first, entry(2, "two")) == f"{HEADER}\n{entry(2, 'two')}\n{entry(1, 'one')}"


def test_a_later_iteration_replaces_the_runs_entry() -> None:
    both = with_entry(with_entry(None, entry(1, "one")), entry(2, "two"))
    assert with_entry(both, entry(1, "one, again")) == (
        f"{HEADER}\n{entry(1, 'one, again')}\n{entry(2, 'two')}"
    )


def test_runs_from_the_same_state_merge_newest_first() -> None:
    applied = with_entry(None, entry(1, "one"))
    second = with_entry(None, entry(2, "two"))
    assert merge(applied, second, 2) == f"{HEADER}\n{entry(2, 'two')}\n{entry(1, 'one')}"


def test_merge_keeps_the_users_text_and_takes_the_runs_newer_entry() -> None:
    edited = f"# Our AI log\n\nHand-written notes.\n\n## Notes\n\nkept\n\n{entry(1, 'one')}"
    proposal = with_entry(with_entry(None, entry(1, "one")), entry(1, "one, again"))
    assert merge(edited, proposal, 1) == (
        f"# Our AI log\n\nHand-written notes.\n\n## Notes\n\nkept\n\n{entry(1, 'one, again')}"
    )


def test_a_summary_with_headings_stays_in_its_entry() -> None:
    noisy = entry(3, "## Details\n\nmore")
    assert merge(with_entry(None, noisy), with_entry(None, entry(4, "four")), 4) == (
        f"{HEADER}\n{entry(4, 'four')}\n{noisy}"
    )


def test_merge_takes_only_the_proposing_runs_entry_and_keeps_the_users_others() -> None:
    """The proposal is the run's worktree copy: older entries as the run started with them (or
    as its agent rewrote them). The user fixed run 3's entry and deleted run 4's since."""
    base = with_entry(with_entry(None, entry(3, "three, wrong")), entry(4, "four"))
    users = with_entry(None, entry(3, "three, fixed"))
    proposal = with_entry(base.replace("three, wrong", "three, by the agent"), entry(5, "five"))
    assert merge(users, proposal, 5) == f"{HEADER}\n{entry(5, 'five')}\n{entry(3, 'three, fixed')}"
