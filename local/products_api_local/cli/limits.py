"""`products-api limits set|show`: a company's plan (its own write rate, its monthly quota) and this month's count."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any

from products_api.limits.store import LimitsStore, month_of

from products_api_local.cli.targets import LIMITS_OUTPUT, CliError, Target


def limits_command(arguments: argparse.Namespace, target: Target) -> int:
    """`limits set` and `limits show`: a company's plan (its own rate, its quota) and this month's count."""
    if target.limits_table is None:
        raise CliError(f"{target.where} names no limits table (deploy the current template: output {LIMITS_OUTPUT})")
    store = LimitsStore(target.client, target.limits_table)
    if arguments.command == "set":
        if arguments.rate is None and arguments.quota is None and not arguments.default_rate and not arguments.no_quota:
            raise CliError("nothing to set: give --rate N or --default-rate, and/or --quota N or --no-quota")
        plan = store.set_plan(
            arguments.company, arguments.rate, arguments.quota, arguments.default_rate, arguments.no_quota
        )
    else:
        plan = store.plan(arguments.company, month_of(datetime.now(UTC)))
    print(
        json.dumps(
            {
                "companyId": arguments.company,
                "rate": plan.rate,
                "quota": plan.quota,
                "month": month_of(datetime.now(UTC)),
                "writes": plan.month_writes,
            }
        )
    )
    rate = "the default rate" if plan.rate is None else ("no rate limit" if plan.rate == 0 else f"{plan.rate}/minute")
    quota = "no quota" if plan.quota is None else f"a quota of {plan.quota} writes a month"
    print(f"company {arguments.company}: {rate}, {quota} ({target.where})", file=sys.stderr)
    return 0


def _count(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if not 0 <= number <= 1_000_000_000:
        raise argparse.ArgumentTypeError(f"{number} is not from 0 to 1000000000")
    return number


def add_limits_parser(groups: Any, company_id: Any) -> None:
    """The `limits` group of the parser (`company_id` checks a company id argument)."""
    limits = groups.add_parser("limits", help="a company's write rate and monthly quota")
    limit_commands = limits.add_subparsers(dest="command", required=True)
    setter = limit_commands.add_parser("set", help="set a company's own rate and/or quota; prints the plan")
    setter.add_argument("--company", required=True, type=company_id)
    rate = setter.add_mutually_exclusive_group()
    rate.add_argument("--rate", type=_count, help="writes per minute (0: unlimited); bites within the minute")
    rate.add_argument("--default-rate", action="store_true", help="back to the deployment's WriteRatePerMinute")
    quota = setter.add_mutually_exclusive_group()
    quota.add_argument("--quota", type=_count, help="writes per calendar month, UTC (0: none at all)")
    quota.add_argument("--no-quota", action="store_true", help="remove the company's quota")
    show = limit_commands.add_parser("show", help="a company's plan and this month's write count")
    show.add_argument("--company", required=True, type=company_id)
