"""``salter close_year [--year Y] [--authority CODE]``: close the registry books for a year that
has ended (31 December or later) and carry their open cases over into the next year's books.
Safe to run again. ``salter clock`` does the same by itself after the year has ended."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from salter.authorities.models import RegistryBook
from salter.authorities.numbering import NumberingError
from salter.core.context import Actor
from salter.documents import yearend


class Command(BaseCommand):
    help = "Close the registry books for a year and carry the open cases over."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--year", type=int, help="The year to close (default: the year before this one)."
        )
        parser.add_argument("--authority", help="Only this authority's books (its code).")

    def handle(self, *args: Any, **options: Any) -> None:
        year = options["year"] or timezone.localdate().year - 1
        books = RegistryBook.objects.select_related("authority").order_by("authority__code", "code")
        if options["authority"]:
            books = books.filter(authority__code=options["authority"])
            if not books.exists():
                raise CommandError(f"no authority {options['authority']!r} with a registry book")
        actor = Actor.system("command")
        for book in books:
            try:
                ended = yearend.close_year(actor, book, year)
            except NumberingError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(
                f"{book.authority.code}/{book.code} {year}: closed, "
                f"{ended.carried_over} open case(s) carried over"
            )
