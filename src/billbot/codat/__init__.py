"""Codat Bill Pay (sync) API: typed models, errors and the async client."""
