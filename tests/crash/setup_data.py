"""The crash test's data, made through the project's services in a process of its own (the
test's process never opens the crash database with Django):

    python -m tests.crash.setup_data --citizens 16 --out plan.json

migrates the (empty) database named by ``DATABASE_URL``, says ``migrated`` on stdout, then
makes the data. Surdulica offers the newborn-aid pilot — a submission queues the applicant's
receipt in the outbox and two evidence requests to the demo registers (civil registry,
residence register), which are filled and joined to the platform as ``salter seed`` does. Each
citizen gets an API token with the ``write`` scope at level of assurance 2 (the pilot's
minimum). The plan (the tokens and the service) is written as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salter.settings.dev")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from salter.authorities import services as authority_services  # noqa: E402
from salter.authorities.models import Authority  # noqa: E402
from salter.catalog import pilots  # noqa: E402
from salter.catalog import services as catalog_services  # noqa: E402
from salter.core.context import Actor  # noqa: E402
from salter.identity import services as identity  # noqa: E402
from salter.identity.models import Role, User  # noqa: E402
from salter.registers import demo  # noqa: E402

AUTHORITIES = [
    # code, name, kind, parent — the municipality and the registers' holder and client
    ("mdulsu", "Министарство државне управе и локалне самоуправе", "ministry", None),
    ("ite", "Канцеларија за ИТ и електронску управу", "agency", "mdulsu"),
    ("surdulica", "Општина Сурдулица", "local_government", None),
]
SERVICE = "surdulica/newborn-aid"


def setup(citizens: int) -> dict[str, object]:
    system = Actor.system("command")
    with transaction.atomic():
        made: dict[str, Authority] = {}
        for code, name, kind, parent in AUTHORITIES:
            made[code] = authority_services.create_authority(
                system, code=code, name=name, kind=kind, parent=made.get(parent or "")
            )
        surdulica = made["surdulica"]
        unit = authority_services.create_unit(
            system, surdulica, code="social", name="Одељење за друштвене делатности"
        )
        identity.add_official(
            system,
            email="clerk@crash.salter.test",
            full_name="Марко Петровић",
            unit=unit,
            role=Role.CLERK,
            password=None,
        )
        catalog_services.offer_pilot(system, surdulica, pilots.NEWBORN_AID)
        demo.connect(system)
        tokens = []
        for i in range(citizens):
            user = User.objects.create_user(
                f"citizen-{i}@crash.salter.test",
                None,
                full_name=f"Грађанин {i}",
                email_verified_at=timezone.now(),
            )
            actor = Actor(user=user, via="crash-test")
            tokens.append(
                identity.create_api_token(
                    actor, name="crash", scopes=["read", "write"], days=1, loa=2
                )[1]
            )
    return {"service": SERVICE, "tokens": tokens}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--citizens", type=int, default=16)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    call_command("migrate", interactive=False, skip_checks=True, verbosity=0)
    print("migrated", flush=True)  # noqa: T201 — the test starts the background workers now
    args.out.write_text(json.dumps(setup(args.citizens)))


if __name__ == "__main__":
    main()
