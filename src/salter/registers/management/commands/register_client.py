"""``salter register_client --name NAME --authority CODE --query Q [--query Q …]``: let a system
ask the demo registers these queries. Prints the client's token once; only its hash is kept.
``--revoke PREFIX`` withdraws a client's token."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from salter.registers import services
from salter.registers.catalogue import QUERIES


class Command(BaseCommand):
    help = "Issue a token with which a system may ask the demo registers (or revoke one)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", help="The client system's name.")
        parser.add_argument("--authority", help="The code of the authority answerable for it.")
        parser.add_argument(
            "--query",
            action="append",
            default=[],
            choices=sorted(QUERIES),
            help="A query it may ask (repeat for more).",
        )
        parser.add_argument(
            "--revoke", metavar="PREFIX", help="Revoke the client with this prefix."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["revoke"]:
            if not services.revoke_client(options["revoke"]):
                raise CommandError(f"no active client {options['revoke']!r}")
            self.stdout.write(f"Client {options['revoke']} revoked.")
            return
        if not options["name"] or not options["authority"] or not options["query"]:
            raise CommandError("give --name, --authority and at least one --query")
        try:
            client, token = services.issue_client(
                name=options["name"], authority=options["authority"], queries=options["query"]
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Client {client.name} ({client.prefix}) may ask: {', '.join(client.queries)}"
        )
        self.stdout.write("Its token, shown only this once:")
        self.stdout.write(token)
