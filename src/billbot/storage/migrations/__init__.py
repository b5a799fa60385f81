"""Alembic migrations, shipped inside the package and run by `upgrade_database`."""
