"""`crm-intake-admin`: create staff users, set passwords, issue and revoke API tokens.

crm-intake-admin create-user li.wei --role manager --name "Li Wei" --password-stdin
crm-intake-admin issue-token li.wei --description "event system" --expires-days 365
crm-intake-admin revoke-token 3f2a9c0d1e4b5a69
"""

import argparse
import getpass
import sys
from collections.abc import Sequence

from crm_intake.entrypoints.cli.common import fail, run_with_context
from crm_intake.service import staff
from crm_intake.service.context import IntakeContext
from crm_shared.auth.tokens import Role


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crm-intake-admin",
        description="Staff users and API tokens (reads CRM_MONGO_URI, CRM_API_TOKEN_SECRET)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    roles = [r.value for r in Role]

    create = commands.add_parser("create-user", help="add a staff user")
    create.add_argument("username", help="lower-case login name, e.g. li.wei")
    create.add_argument("--role", required=True, choices=roles)
    create.add_argument("--name", required=True, help="display name")
    create.add_argument("--language", default="en", choices=["en", "zh", "de"])
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )

    password = commands.add_parser("set-password", help="set a user's password")
    password.add_argument("username")
    password.add_argument("--password-stdin", action="store_true")

    deactivate = commands.add_parser(
        "deactivate-user", help="disable a user and revoke their tokens"
    )
    deactivate.add_argument("username")

    commands.add_parser("list-users", help="list staff users")

    issue = commands.add_parser("issue-token", help="issue an API bearer token (printed once)")
    issue.add_argument("username", help="the staff user the token acts for")
    issue.add_argument(
        "--role", choices=roles, help="a lower role than the user's (default: theirs)"
    )
    issue.add_argument("--description", default="", help="what the token is for")
    issue.add_argument("--expires-days", type=int, help="days until it expires (default: never)")

    revoke = commands.add_parser("revoke-token", help="revoke an API token by its id")
    revoke.add_argument("token_id")

    tokens = commands.add_parser("list-tokens", help="list API tokens (ids, never the tokens)")
    tokens.add_argument("--owner")
    return parser


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():
        fail("no terminal to ask for a password: pass --password-stdin and pipe it in")
    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        fail("the two passwords differ")
    return first


def _state(user: dict[str, object]) -> str:
    return "active" if user.get("active", True) else "inactive"


async def _dispatch(ctx: IntakeContext, args: argparse.Namespace, password: str | None) -> str:
    match args.command:
        case "create-user":
            user = await staff.create_user(
                ctx,
                {
                    "username": args.username,
                    "role": args.role,
                    "display_name": args.name,
                    "password": password,
                    "language": args.language,
                },
            )
            return f"created {user['role']} {user['_id']} ({user['display_name']})"
        case "set-password":
            await staff.set_password(ctx, args.username, password or "")
            return f"password of {args.username} set"
        case "deactivate-user":
            revoked = await staff.deactivate_user(ctx, args.username)
            return f"{args.username} deactivated; {revoked} token(s) revoked"
        case "list-users":
            users = await staff.list_users(ctx)
            return (
                "\n".join(
                    f"{u['_id']:<24} {u['role']:<8} {_state(u):<9} {u.get('display_name', '')}"
                    for u in users
                )
                or "no users"
            )
        case "issue-token":
            issued = await staff.issue_token(
                ctx,
                args.username,
                role=Role(args.role) if args.role else None,
                description=args.description,
                expires_in_days=args.expires_days,
            )
            expiry = issued.expires_at.isoformat() if issued.expires_at else "never"
            print(
                f"token id {issued.token_id} for {issued.owner} "
                f"({issued.role.value}), expires {expiry}",
                file=sys.stderr,
            )
            print("store it now: it is not shown again", file=sys.stderr)
            return issued.token
        case "revoke-token":
            await staff.revoke_token(ctx, args.token_id)
            return f"token {args.token_id} revoked"
        case "list-tokens":
            rows = await staff.list_tokens(ctx, args.owner)
            return (
                "\n".join(
                    f"{t['_id']:<18} {t['owner']:<20} {t['role']:<8} "
                    f"{'revoked' if t.get('revoked') else 'valid':<8} {t.get('description', '')}"
                    for t in rows
                )
                or "no tokens"
            )
    raise AssertionError(args.command)


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.command == "issue-token" and args.expires_days is not None and args.expires_days < 1:
        fail("--expires-days must be at least 1")
    password = (
        _password(args.password_stdin) if args.command in ("create-user", "set-password") else None
    )
    print(run_with_context(lambda ctx: _dispatch(ctx, args, password)))


if __name__ == "__main__":
    main()
