"""The sandbox's public surface, pinned so a change to it is a deliberate one."""

from __future__ import annotations

import billbot.sandbox.codat as sandbox


def test_exported_names() -> None:
    assert set(sandbox.__all__) == {
        "Exchange", "ExchangeRequest", "ExchangeResponse", "FaultKind", "FaultRule", "Faults",
        "PaymentRecord", "RequestRecord", "SandboxState", "create_app"}
    assert all(hasattr(sandbox, name) for name in sandbox.__all__)
