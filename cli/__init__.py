"""The `sluice` command lines that are not serving: token and service management (next to `server.py`'s)."""
