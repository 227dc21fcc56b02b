"""Loading a project folder: reading files, API and model definitions, dependency order, the build."""
