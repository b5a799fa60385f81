"""Policy versions: an edit saves exactly the version after the one it was opened on, so of
two edits made from one version (at once, on any replica) one is saved and the other changes
nothing; `record` numbers after the newest whatever came before. Each workspace numbers and
reads its own versions."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import col, select

from billbot.domain.approval_rules import ApprovalPolicy, Rule, Step, legacy_policy
from billbot.services import policy_versions
from billbot.storage.db import session_scope
from billbot.storage.tables import AuditLog

from .conftest import T0, run_together


def chain(name: str) -> ApprovalPolicy:
    return ApprovalPolicy(rules=(Rule(name, steps=(Step(("U0ANN",), 1),)),))


def test_two_edits_from_one_version_save_one(engine: Engine) -> None:
    with session_scope(engine) as session:
        base = policy_versions.sync_at_start(session, source="env", policy=legacy_policy(None),
                                             text=None, at=T0)
    assert base.number == 1

    def edit(index: int) -> int | None:
        with session_scope(engine) as session:
            saved = policy_versions.record_after(
                session, "", base.number, source="db", policy=chain(f"Edit {index}"),
                text=f"edit {index}", author=f"U0ADMIN{index}", at=T0, note=None)
            return None if saved is None else saved.number

    results = run_together(2, edit)
    assert sorted(results, key=lambda r: r or 0) == [None, 2]
    with session_scope(engine, read_only=True) as session:
        newest = policy_versions.newest(session, "")
        assert newest is not None and newest.number == 2
        winner = results.index(2)
        assert newest.author == f"U0ADMIN{winner}" and newest.text == f"edit {winner}"
        created = session.exec(select(AuditLog).where(
            col(AuditLog.action) == "policy.version_created")).all()
        assert [(e.actor, e.detail["version"]) for e in created] == [
            ("config", 1), (f"U0ADMIN{winner}", 2)]
        # An edit from version 1 made now changes nothing; `record` goes on from the newest.
        assert policy_versions.record_after(session, "", 1, source="db", policy=chain("Late"),
                                            text=None, author="U0LATE", at=T0) is None
        again = policy_versions.record(session, "", source="db", policy=chain("Role change"),
                                       text=None, author="U0ADA", at=T0)
        assert again.number == 3
        found = policy_versions.version(session, "", 2)
        assert found is not None and found.policy == chain(f"Edit {winner}")


def test_each_workspace_numbers_and_reads_only_its_own_versions(engine: Engine) -> None:
    with session_scope(engine) as session:
        policy_versions.sync_at_start(session, source="env", policy=legacy_policy(None),
                                      text=None, at=T0)
        policy_versions.record(session, "", source="db", policy=chain("Single"), text=None,
                               author="U0ADA", at=T0)
        first_a = policy_versions.record(session, "T0AAAA", source="db", policy=chain("A one"),
                                         text=None, author="U0ANN", at=T0)
        assert first_a.number == 1  # whatever '' has
        # B's edit opened on "no version" (0) saves B's version 1, however many A has.
        policy_versions.record(session, "T0AAAA", source="db", policy=chain("A two"),
                               text=None, author="U0ANN", at=T0)
        first_b = policy_versions.record_after(session, "T0BBBB", 0, source="db",
                                               policy=chain("B one"), text=None,
                                               author="U0BEA", at=T0)
        assert first_b is not None and first_b.number == 1
    with session_scope(engine, read_only=True) as session:
        assert [v.policy for v in policy_versions.versions(session, "T0AAAA")] == [
            chain("A two"), chain("A one")]
        assert [v.policy for v in policy_versions.versions(session, "T0BBBB")] == [chain("B one")]
        assert [v.number for v in policy_versions.versions(session, "")] == [2, 1]
        assert policy_versions.version(session, "T0BBBB", 2) is None
        each = policy_versions.newest_of_each(session)
        assert {team: (v.number, v.policy.rules[0].name) for team, v in each.items()} == {
            "": (2, "Single"), "T0AAAA": (2, "A two"), "T0BBBB": (1, "B one")}
        created = session.exec(select(AuditLog).where(
            col(AuditLog.action) == "policy.version_created")).all()
        # Each version's audit row is its workspace's, whoever wrote it.
        assert sorted((e.team_id, e.detail["version"], e.actor) for e in created) == [
            ("", 1, "config"), ("", 2, "U0ADA"), ("T0AAAA", 1, "U0ANN"), ("T0AAAA", 2, "U0ANN"),
            ("T0BBBB", 1, "U0BEA")]
