"""``faqstream keys create|list|rotate|revoke``: the API keys of the answer service's tenants.

Keys live hashed in the service's database (``DATABASE_URL``, else the SQLite file at
``DATABASE_SQLITE_PATH``), so these commands act on running services too: a created key works at
once, a rotated or revoked one stops within ``AUTH_KEY_CACHE_TTL_S`` seconds, without a restart.
A new key (create, rotate) is printed once, alone on stdout; it cannot be shown again.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from service.tenants.store import KeyRecord, KeyStore

# service.core.types.SCOPES, spelled out so `faqstream --help` does not import the service
# (tests/integration/test_cli.py holds the two equal).
SCOPES = ("answer", "admin", "metrics", "agent")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = sub.add_parser(
        "keys",
        help="create, list, rotate and revoke the API keys of tenants",
        description="API keys of the answer service, stored hashed in the database (DATABASE_URL or "
        "DATABASE_SQLITE_PATH). Changes reach running services within AUTH_KEY_CACHE_TTL_S seconds.",
    )
    keys_sub = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    create = keys_sub.add_parser(
        "create",
        help="make a key for a tenant (printed once)",
        description="Make a key. Tenants never see each other's cached answers, conversations or usage. "
        "Scopes: answer (POST /v1/answers), admin (/admin/*), metrics (/metrics and /schema when "
        "AUTH_PROTECT_OPS is on), agent (a helpdesk posting agents' replies: docs/agents.md). "
        "Limits left out are the deployment's (LIMITS_*).",
    )
    create.add_argument("--tenant", required=True, help="letters, digits, '.', '_', '-' (≤ 64)")
    create.add_argument("--name", required=True, help="what the key is for, e.g. 'web widget'")
    create.add_argument(
        "--scope",
        action="append",
        choices=SCOPES,
        help="repeat for several (default: answer)",
    )
    create.add_argument("--rpm", type=float, help="requests per minute for this key")
    create.add_argument("--daily-tokens", type=int, help="tokens per UTC day for this key")
    create.add_argument("--daily-cost-usd", type=float, help="USD per UTC day for this key")
    create.add_argument("--json", action="store_true")

    listing = keys_sub.add_parser("list", help="the keys (never the keys themselves), revoked ones too")
    listing.add_argument("--tenant", help="only this tenant's keys")
    listing.add_argument("--active", action="store_true", help="leave out revoked keys")
    listing.add_argument("--json", action="store_true")

    rotate = keys_sub.add_parser(
        "rotate",
        help="a new secret for a key (printed once); the old one stops working",
        description="Same id, tenant, scopes and limits (its rate limit, budget and ledger carry on); "
        "the old key stops within AUTH_KEY_CACHE_TTL_S seconds in running services.",
    )
    rotate.add_argument("key_id", metavar="KEY_ID", help="the id shown by `faqstream keys list`")
    rotate.add_argument("--json", action="store_true")

    revoke = keys_sub.add_parser(
        "revoke", help="stop a key (within AUTH_KEY_CACHE_TTL_S seconds in running services)"
    )
    revoke.add_argument("key_id", metavar="KEY_ID")
    revoke.add_argument("--json", action="store_true")


def _store() -> KeyStore:
    from service.settings.database import DatabaseSettings
    from service.tenants.store import KeyStore

    store = KeyStore.from_settings(DatabaseSettings())
    store.migrate()  # a fresh database needs no other step
    return store


def _describe(record: KeyRecord) -> str:
    limits = record.limits
    own = [
        f"{limits.rpm:g} rpm" if limits.rpm is not None else "",
        f"{limits.daily_tokens} tokens/day" if limits.daily_tokens is not None else "",
        f"${limits.daily_cost_usd:g}/day" if limits.daily_cost_usd is not None else "",
    ]
    state = f"revoked {record.revoked_at:%Y-%m-%d %H:%M}" if record.revoked_at else "active"
    used = f"{record.last_used_at:%Y-%m-%d %H:%M}" if record.last_used_at else "never"
    return (
        f"{record.id}  {record.tenant}  {record.name!r}  scopes={','.join(sorted(record.scopes))}  "
        f"limits={', '.join(x for x in own if x) or 'default'}  created {record.created_at:%Y-%m-%d %H:%M}  "
        f"last used {used}  {state}"
    )


def _print_new(record: KeyRecord, key: str, as_json: bool, verb: str) -> None:
    if as_json:
        print(json.dumps({"key": key, **record.public()}, indent=2))
        return
    print(key)
    print(f"{verb} {_describe(record)}", file=sys.stderr)
    print("This key is shown once: store it now (only its hash is kept).", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from service.core.types import KeyLimits

    store = _store()
    try:
        action = args.keys_command
        if action == "create":
            limits = KeyLimits(args.rpm, args.daily_tokens, args.daily_cost_usd)
            record, key = store.create(args.tenant, args.name, args.scope or ["answer"], limits)
            _print_new(record, key, args.json, "created")
        elif action == "rotate":
            record, key = store.rotate(args.key_id)
            _print_new(record, key, args.json, "rotated")
        elif action == "revoke":
            record = store.revoke(args.key_id)
            _print(record.public() if args.json else f"revoked {_describe(record)}", args.json)
        else:
            records = store.list(args.tenant, revoked=not args.active)
            if args.json:
                _print([r.public() for r in records], True)
            else:
                for r in records:
                    print(_describe(r))
                if not records:
                    print("no API keys (make one with `faqstream keys create --tenant T --name N`)")
    finally:
        store.close()
    return 0


def _print(value: Any, as_json: bool) -> None:
    print(json.dumps(value, indent=2) if as_json else value)
