"""`sluice refresh DIR [--model NAME]... [--full]`: refresh models, as `rill project refresh` does.

Writes a refresh request into the state folder and builds it now; a server serving the project notices the
request, finds the new build (or builds it, if its settings differ) and swaps it in without pausing
requests. Incremental models run only their new partitions unless `--full` rebuilds them from scratch
(`--full` alone: every model). Run it with the server's settings (the same SLUICE_* variables, or
`--state-dir`, `--env` and `--allow-dir`) so that the server reuses the build instead of building it again.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Mapping

from project.engines.increments import ALL_MODELS, request_refresh
from project.errors import SluiceError
from project.loading.loader import declared_model_names, load_project
from project.settings import Settings, settings_from_env

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def run_refresh_command(argv: list[str]) -> int:
    """Run `refresh ...` (argv after the word `refresh`); returns the exit code."""
    try:
        options = build_parser().parse_args(argv)
    except SystemExit as exit_request:
        return exit_request.code if isinstance(exit_request.code, int) else EXIT_USAGE
    settings = _settings(options)
    try:
        unknown = sorted(set(options.model) - declared_model_names(settings))
        if unknown:
            print(f'error: model "{unknown[0]}" not found', file=sys.stderr)
            return EXIT_USAGE
        full = (tuple(options.model) or (ALL_MODELS,)) if options.full else ()
        request = request_refresh(settings.resolved_state_dir, full)
        project = load_project(settings)
    except SluiceError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    for engine in project.engines.values():
        engine.close()
    return _report(request.generation, project.failed_models, project.model_names)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sluice refresh", description=__doc__.splitlines()[0])
    parser.add_argument("project_dir", nargs="?", default=".")
    parser.add_argument("--model", action="append", default=[], metavar="NAME", help="a model to refresh")
    parser.add_argument("--full", action="store_true", help="rebuild from scratch (incremental models too)")
    parser.add_argument("--state-dir", help="the server's state folder (default: DIR/.sluice)")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="a project variable")
    parser.add_argument("--allow-dir", action="append", default=[], metavar="DIR", help="as the server's")
    return parser


def _settings(options: argparse.Namespace) -> Settings:
    defaults = settings_from_env(os.environ, environment="dev")
    overrides = dict(item.split("=", 1) for item in options.env if "=" in item)
    return dataclasses.replace(
        defaults,
        project_dir=options.project_dir,
        state_dir=options.state_dir or defaults.state_dir,
        env_overrides={**defaults.env_overrides, **overrides},
        allow_dirs=tuple(options.allow_dir or defaults.allow_dirs),
    )


def _report(generation: int, failed: Mapping[str, str], models: frozenset[str]) -> int:
    for name, message in sorted(failed.items()):
        print(f"error: model {name!r} failed to build: {message}", file=sys.stderr)
    built = len(models) - len(failed)
    print(f"refresh {generation}: {built} of {len(models)} models built, {len(failed)} failed")
    return EXIT_FAILED if failed else EXIT_OK
