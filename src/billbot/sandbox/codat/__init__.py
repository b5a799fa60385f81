"""A stateful stand-in for Codat's Bill Pay (sync) API, served as an ASGI app."""
