"""``salter clearance EMAIL LEVEL``: set the clearance of an official's memberships from the
console (there is no page for memberships yet). ``--authority``, ``--unit`` and ``--role``
narrow which memberships; each change is audited (``membership.clearance_changed``)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from salter.core.confidentiality import Level
from salter.core.context import Actor
from salter.identity import services
from salter.identity.models import Membership


class Command(BaseCommand):
    help = "Set the clearance (highest confidentiality level read) of an official's memberships."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("level", choices=Level.values)
        parser.add_argument("--authority", help="code of the authority")
        parser.add_argument("--unit", help="code of the unit")
        parser.add_argument("--role", help="only the membership in this role")

    def handle(self, *args: Any, **options: Any) -> None:
        memberships = Membership.objects.filter(user__email__iexact=options["email"])
        if options["authority"]:
            memberships = memberships.filter(unit__authority__code=options["authority"])
        if options["unit"]:
            memberships = memberships.filter(unit__code=options["unit"])
        if options["role"]:
            memberships = memberships.filter(role=options["role"])
        found = list(memberships.select_related("unit__authority").order_by("id"))
        if not found:
            raise CommandError("No membership of this official matches.")
        actor = Actor.system("command")
        for membership in found:
            try:
                services.set_clearance(actor, membership, options["level"])
            except ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from exc
            self.stdout.write(
                f"{membership.user.email} {membership.role} @ "
                f"{membership.unit.authority.code}/{membership.unit.code}: {options['level']}"
            )
