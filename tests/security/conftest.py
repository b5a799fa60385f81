"""The security tests drive the same end-to-end stack as tests/e2e (real HTTP, real DB)."""

from tests.e2e.conftest import codat_api, stack, stack_factory  # noqa: F401  (fixtures)
