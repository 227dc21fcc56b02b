"""`sluice refresh [DIR] [--model NAME]... [--full]`: refresh models, as `rill project refresh` does.

Writes a refresh request into the state folder and builds it now; a server serving the project notices the
request, finds the new build (or builds it, if its settings differ) and swaps it in without pausing
requests. Incremental models run only their new partitions unless `--full` rebuilds them from scratch
(`--full` alone: every model). It takes the server's settings flags and variables, so that given the same
ones the server reuses this build instead of building it again.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping

from cli.options import HelpFormatter, add_setting_flags, settings_from_flags
from project.engines.increments import ALL_MODELS, request_refresh
from project.errors import SluiceError
from project.loading.loader import declared_model_names, load_project
from project.settings import settings_from_env

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def run_refresh_command(argv: list[str]) -> int:
    """Run `refresh ...` (argv after the word `refresh`); returns the exit code."""
    try:
        options = build_parser().parse_args(argv)
    except SystemExit as exit_request:
        return exit_request.code if isinstance(exit_request.code, int) else EXIT_USAGE
    try:
        settings = settings_from_flags(options, settings_from_env(os.environ, "serve"))
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
    parser = argparse.ArgumentParser(
        prog="sluice refresh", description=__doc__.splitlines()[0], formatter_class=HelpFormatter
    )
    add_setting_flags(parser, "serve")
    own = parser.add_argument_group("refresh (command line only)")
    own.add_argument("--model", action="append", default=[], metavar="NAME", help="a model to refresh")
    own.add_argument("--full", action="store_true", help="rebuild from scratch, incremental models too")
    return parser


def _report(generation: int, failed: Mapping[str, str], models: frozenset[str]) -> int:
    for name, message in sorted(failed.items()):
        print(f"error: model {name!r} failed to build: {message}", file=sys.stderr)
    built = len(models) - len(failed)
    print(f"refresh {generation}: {built} of {len(models)} models built, {len(failed)} failed")
    return EXIT_FAILED if failed else EXIT_OK
