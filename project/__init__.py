"""Sluice's domain: loading a project, checking and binding SQL, running it on engines, encoding answers."""
