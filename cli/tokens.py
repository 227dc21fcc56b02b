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
    env = os.environ if env is None else env
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_request:
        return exit_request.code if isinstance(exit_request.code, int) else EXIT_USAGE
    project = args.project or env.get("SLUICE_PROJECT") or "."
    store = TokenStore(args.tokens or default_token_path(project, env.get("SLUICE_TOKENS")))
    try:
        return args.run(store, args)
    except TokenStoreError as error:
        print(f"error: {error.message}", file=sys.stderr)
    except OSError as error:
        print(f"error: {error.filename or store.path}: {error.strerror}", file=sys.stderr)
    return EXIT_FAILED


TOKEN_HELP = """User tokens, for development: a token stands for a person (name, email, admin or not), and the
API sees `.user.name`, `.user.email`, `.user.admin` for it. Serve with --auth (SLUICE_AUTH=on) to require one.

examples:
  sluice token issue --project PROJECT_DIR --display-name Ana --email ana@example.com
  sluice token list --project PROJECT_DIR
  sluice token revoke --project PROJECT_DIR ID"""
SERVICE_HELP = """Service tokens, for production: a token for a program, with a project role and attributes
that the API sees as `.user` (security policies filter rows by them).

examples:
  sluice service create --project PROJECT_DIR reporting --attributes '{"customer_id": "acme"}'
  sluice service edit --project PROJECT_DIR ID --attributes '{"region": null}'
  sluice service list --project PROJECT_DIR --json"""
STORE_NOTE = "A new token is printed once, on stdout; the file keeps only its hash."


def build_parser() -> argparse.ArgumentParser:
    """The argparse tree: `token issue|list|revoke|edit` and `service create|list|revoke|edit`."""
    parser = argparse.ArgumentParser(prog="sluice", description="Manage Sluice access tokens.")
    groups = parser.add_subparsers(
        dest="group", required=True, metavar="{token,service}", help="the kind of token"
    )
    common = _common_options()
    tokens = _group(groups, "token", "issue, list, edit and revoke user tokens (development)", TOKEN_HELP)
    issue = tokens.add_parser(
        "issue", parents=[common], help="issue a user token", description=f"Issue a user token. {STORE_NOTE}"
    )
    issue.add_argument("--display-name", required=True, metavar="NAME", help="the person's name (.user.name)")
    issue.add_argument("--email", help="the person's email (.user.email; default: none)")
    issue.add_argument(
        "--admin", action="store_true", help="the person is an admin (.user.admin; default: off)"
    )
    issue.set_defaults(run=_issue)
    _add_management_commands(tokens, common, "user")
    services = _group(
        groups, "service", "create, list, edit and revoke service tokens (production)", SERVICE_HELP
    )
    _add_service_commands(services, common)
    return parser


def _group(groups: Any, name: str, summary: str, description: str) -> Any:
    """`sluice token` or `sluice service`: its one-line summary, its description with examples."""
    group = groups.add_parser(
        name, help=summary, description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    return group.add_subparsers(required=True, metavar="COMMAND", title="commands", help="what to do")


def _add_service_commands(subparsers: Any, common: argparse.ArgumentParser) -> None:
    create = subparsers.add_parser(
        "create",
        parents=[common],
        help="create a service and its token",
        description=f"Create a service and its token. {STORE_NOTE}",
    )
    create.add_argument("name", help="the service's name (.user.name)")
    create.add_argument(
        "--project-role",
        choices=PROJECT_ROLES,
        default="viewer",
        help="what the service may do; admin is .user.admin (default: %(default)s)",
    )
    create.add_argument(
        "--attributes",
        type=json_object,
        default={},
        metavar="JSON",
        help="a JSON object of attributes the API sees in .user (default: {})",
    )
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
    common.add_argument(
        "--project", metavar="DIR", help="the project folder (env SLUICE_PROJECT; default: .)"
    )
    common.add_argument(
        "--tokens",
        metavar="FILE",
        help="the token file (env SLUICE_TOKENS; default: DIR/.sluice/tokens.json)",
    )
    return common


def _add_management_commands(subparsers: Any, common: argparse.ArgumentParser, kind: str) -> None:
    """`list`, `revoke ID` and `edit ID --attributes JSON` for one kind of token."""
    listing = subparsers.add_parser(
        "list",
        parents=[common],
        help=f"list {kind} tokens",
        description=f"List the {kind} tokens: id, name, created, revoked, attributes (never a token).",
    )
    listing.add_argument("--json", action="store_true", help="print a JSON array (default: a table)")
    listing.set_defaults(run=_list, kind=kind)
    revoke = subparsers.add_parser(
        "revoke",
        parents=[common],
        help=f"revoke a {kind} token",
        description=f"Revoke a {kind} token: callers with it get 401 from the next request on.",
    )
    revoke.add_argument("id", help="the token's id (from list)")
    revoke.set_defaults(run=_revoke, kind=kind)
    edit = subparsers.add_parser(
        "edit",
        parents=[common],
        help="merge attributes (null removes one)",
        description=f"Merge attributes into a {kind} token's; an attribute set to null is removed.",
    )
    edit.add_argument("id", help="the token's id (from list)")
    edit.add_argument(
        "--attributes", type=json_object, required=True, metavar="JSON", help="a JSON object to merge"
    )
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
