"""The `token` and `service` command lines: issue, create, list, edit and revoke opaque tokens.

A new token is printed once, on stdout, and never again; `list` shows records but never a token or hash.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from typing import Any

from project.auth.tokens import PROJECT_ROLES, TokenRecord, TokenStore, TokenStoreError, default_token_path

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
_COLUMNS = ("id", "kind", "name", "created", "revoked", "attributes")


def run_token_command(argv: list[str], env: Mapping[str, str] | None = None) -> int:
    """Run `token ...` or `service ...` (argv without the program name); returns the exit code."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_request:
        return exit_request.code if isinstance(exit_request.code, int) else EXIT_USAGE
    store = TokenStore(
        args.tokens
        or default_token_path(args.project, (os.environ if env is None else env).get("SLUICE_TOKENS"))
    )
    try:
        return args.run(store, args)
    except TokenStoreError as error:
        print(f"error: {error.message}", file=sys.stderr)
    except OSError as error:
        print(f"error: {error.filename or store.path}: {error.strerror}", file=sys.stderr)
    return EXIT_FAILED


def build_parser() -> argparse.ArgumentParser:
    """The argparse tree: `token issue|list|revoke|edit` and `service create|list|revoke|edit`."""
    parser = argparse.ArgumentParser(prog="sluice", description="Manage Sluice access tokens.")
    groups = parser.add_subparsers(dest="group", required=True)
    common = _common_options()
    tokens = groups.add_parser("token", help="user tokens, for development").add_subparsers(required=True)
    issue = tokens.add_parser("issue", parents=[common], help="issue a user token")
    issue.add_argument("--display-name", required=True)
    issue.add_argument("--email")
    issue.add_argument("--admin", action="store_true")
    issue.set_defaults(run=_issue)
    _add_management_commands(tokens, common, "user")
    services = groups.add_parser("service", help="service tokens, for production")
    _add_service_commands(services.add_subparsers(required=True), common)
    return parser


def _add_service_commands(subparsers: Any, common: argparse.ArgumentParser) -> None:
    create = subparsers.add_parser("create", parents=[common], help="create a service and its token")
    create.add_argument("name")
    create.add_argument("--project-role", choices=PROJECT_ROLES, default="viewer")
    create.add_argument("--attributes", type=json_object, default={}, metavar="JSON")
    create.set_defaults(run=_create)
    _add_management_commands(subparsers, common, "service")


def json_object(text: str) -> dict[str, Any]:
    """An argparse type: the text parsed as a JSON object."""
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError('must be a JSON object, like \'{"customer_id": "acme"}\'')
    return value


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON value")


def _common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--project", default=".", metavar="DIR", help="project folder (default: .)")
    common.add_argument(
        "--tokens", metavar="FILE", help="token file (default: $SLUICE_TOKENS or DIR/.sluice/tokens.json)"
    )
    return common


def _add_management_commands(subparsers: Any, common: argparse.ArgumentParser, kind: str) -> None:
    """`list`, `revoke ID` and `edit ID --attributes JSON` for one kind of token."""
    listing = subparsers.add_parser("list", parents=[common], help=f"list {kind} tokens")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.set_defaults(run=_list, kind=kind)
    revoke = subparsers.add_parser("revoke", parents=[common], help=f"revoke a {kind} token")
    revoke.add_argument("id")
    revoke.set_defaults(run=_revoke, kind=kind)
    edit = subparsers.add_parser("edit", parents=[common], help="merge attributes (null removes one)")
    edit.add_argument("id")
    edit.add_argument("--attributes", type=json_object, required=True, metavar="JSON")
    edit.set_defaults(run=_edit, kind=kind)


def _issue(store: TokenStore, args: argparse.Namespace) -> int:
    return _announce(*store.issue_user_token(args.display_name, args.email, args.admin))


def _create(store: TokenStore, args: argparse.Namespace) -> int:
    return _announce(*store.create_service(args.name, args.project_role, args.attributes))


def _announce(token: str, record: TokenRecord) -> int:
    """Print the new token on stdout, the only time it is ever shown, and a note on stderr."""
    print(token)
    print(
        f'{record.kind} token {record.id} issued for "{record.name}"; store it now, it cannot be shown again',
        file=sys.stderr,
    )
    return EXIT_OK


def _list(store: TokenStore, args: argparse.Namespace) -> int:
    records = [record.public() for record in store.list_tokens(args.kind)]
    if args.json:
        print(json.dumps(records, indent=2))
        return EXIT_OK
    print("\t".join(_COLUMNS))
    for record in records:
        print("\t".join(_cell(record[column]) for column in _COLUMNS))
    return EXIT_OK


def _cell(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _revoke(store: TokenStore, args: argparse.Namespace) -> int:
    return _report(store.revoke(args.id, args.kind), "revoked")


def _edit(store: TokenStore, args: argparse.Namespace) -> int:
    return _report(store.edit_attributes(args.id, args.attributes, args.kind), "updated")


def _report(record: TokenRecord, verb: str) -> int:
    print(f"{verb} {record.kind} token {record.id}: {json.dumps(record.attributes)}")
    return EXIT_OK
