from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from salter.core import demo


class Command(BaseCommand):
    help = "Seed the demo authorities, officials and citizens (safe to run again)."

    def handle(self, *args: Any, **options: Any) -> None:
        accounts = demo.seed()
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({len(accounts)} accounts)."))
        self.stdout.write(f"  password for every demo account: {demo.DEMO_PASSWORD}")
        self.stdout.write(f"  TOTP key of demo officials (base32): {demo.DEMO_TOTP_BASE32}")
        for account in accounts:
            self.stdout.write(f"  {account.email:<28} {account.role:<24} {account.note}")
