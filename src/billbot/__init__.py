"""billbot: approve and pay supplier bills from Slack through Codat's Bill Pay API."""

__version__ = "0.1.0"
