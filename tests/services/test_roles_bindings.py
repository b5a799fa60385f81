"""Roles with admin overrides, channel bindings, and the audit trail text."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from billbot.domain.policy import PolicySettings, Role
from billbot.services import approvals, audit_history, bindings, roles
from billbot.services.bindings import Binding
from billbot.slackapp.audit_text import audit_text
from billbot.storage.db import session_scope

from .conftest import T0, audit_of, make_bill


class TestRoles:
    def test_environment_roles_with_overrides(self, engine: Engine,
                                              policy: PolicySettings) -> None:
        with session_scope(engine) as session:
            assert roles.roles_of(session, policy, "UA") == {Role.APPROVER, Role.PAYER}
            assert roles.set_role(session, policy, user_id="UN", role=Role.APPROVER,
                                  present=True, actor="UX", request_id="r1", at=T0)
            assert roles.set_role(session, policy, user_id="UA", role=Role.PAYER,
                                  present=False, actor="UX", request_id="r2", at=T0)
        with session_scope(engine, read_only=True) as session:
            assert roles.roles_of(session, policy, "UN") == {Role.APPROVER}
            assert roles.roles_of(session, policy, "UA") == {Role.APPROVER}
            assert roles.members(session, policy, Role.APPROVER) == {"UA", "UB", "UC", "UN"}
            assert roles.members(session, policy, Role.PAYER) == {"UP", "UQ"}
            assert [(g.user_id, g.role, g.present) for g in roles.list_grants(session)] == [
                ("UA", Role.PAYER, False), ("UN", Role.APPROVER, True)]
        assert audit_of(engine) == ["role.granted", "role.revoked"]

    def test_a_later_change_replaces_the_override(self, engine: Engine,
                                                  policy: PolicySettings) -> None:
        for present in (True, False, True):
            with session_scope(engine) as session:
                roles.set_role(session, policy, user_id="UN", role=Role.ADMIN, present=present,
                               actor="UX", request_id=None, at=T0)
        with session_scope(engine, read_only=True) as session:
            assert roles.roles_of(session, policy, "UN") == {Role.ADMIN}
            assert len(roles.list_grants(session)) == 1

    def test_only_admins_change_roles(self, engine: Engine, policy: PolicySettings) -> None:
        with session_scope(engine) as session:
            decision = roles.set_role(session, policy, user_id="UA", role=Role.ADMIN,
                                      present=True, actor="UA", request_id=None, at=T0)
        assert not decision and "admins" in decision.reason
        with session_scope(engine, read_only=True) as session:
            assert Role.ADMIN not in roles.roles_of(session, policy, "UA")
        assert audit_of(engine) == ["access.refused"]


class TestBindings:
    def test_default_binding_from_configuration(self, engine: Engine) -> None:
        for _ in range(2):
            with session_scope(engine) as session:
                binding = bindings.ensure_default_binding(
                    session, channel_id="C1", company_id="co", connection_id="cn", at=T0)
        assert (binding.company_id, binding.bound_by) == ("co", bindings.CONFIG_ACTOR)
        assert audit_of(engine) == ["binding.set"]  # the second start changed nothing
        with session_scope(engine) as session:
            moved = bindings.ensure_default_binding(session, channel_id="C1", company_id="co2",
                                                    connection_id="cn2", at=T0)
        assert moved.company_id == "co2"

    def test_an_admins_binding_wins_over_configuration(self, engine: Engine) -> None:
        with session_scope(engine) as session:
            bindings.bind(session, channel_id="C1", company_id="admin-co", connection_id="k",
                          actor="UX", request_id="r", at=T0)
            kept = bindings.ensure_default_binding(session, channel_id="C1", company_id="co",
                                                   connection_id="cn", at=T0)
        assert kept.company_id == "admin-co" and kept.bound_by == "UX"
        with session_scope(engine, read_only=True) as session:
            assert bindings.get_binding(session, channel_id="C1") == kept
            assert bindings.get_binding(session, channel_id="C2") is None
            assert bindings.list_bindings(session) == [kept]


class TestAuditHistory:
    def test_recent_entries_of_the_channels_company(self, engine: Engine, binding: Binding,
                                                    policy: PolicySettings) -> None:
        for i, user in enumerate(("UA", "UP")):
            with session_scope(engine) as session:
                approvals.approve(session, bill=make_bill(f"b{i}"), binding=binding,
                                  user_id=user, request_id=None, policy=policy,
                                  at=T0 + timedelta(minutes=i))
        with session_scope(engine, read_only=True) as session:
            def shown(reference: str | None = None, company: str = binding.company_id) -> str:
                entries = audit_history.recent_entries(
                    session, company_id=company, connection_id=binding.connection_id,
                    reference=reference)
                return audit_text(entries, reference=reference)

            everything, one, none = shown(), shown("inv-b0"), shown("nope")
            other_company = shown(company="another-company")
        lines = everything.splitlines()
        assert "access.refused" in lines[1] and "<@UP>" in lines[1]
        assert "approval.recorded" in lines[2] and "*INV-b0*" in lines[2]
        assert "GBP 1,200.50" in lines[2] and "approvals <@UA> (1 of 1)" in lines[2]
        assert "binding.set" in lines[3]
        assert one.splitlines()[1:] == [lines[2]]
        assert none == "No audit entries for `nope`."
        assert other_company == "No audit entries."
