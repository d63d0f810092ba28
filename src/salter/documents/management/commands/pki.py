from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from salter.documents import pki


class Command(BaseCommand):
    help = (
        "The development PKI (root CA, issuing CA, timestamp authority, CRLs) in SALTER_PKI_DIR. "
        "`init` keeps an existing one unless --force; `revoke SERIAL` puts a certificate on its "
        "CA's revocation list."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["init", "revoke"])
        parser.add_argument("serial", nargs="?", help="revoke: the serial number (decimal or 0x…)")
        parser.add_argument("--force", action="store_true", help="init: replace an existing PKI")

    def handle(self, *args: Any, **options: Any) -> None:
        directory = pki.pki_dir()
        if options["action"] == "revoke":
            if not options["serial"]:
                raise CommandError("revoke needs the certificate's serial number")
            try:
                serial = int(options["serial"], 0)
                pki.revoke(serial)
            except (ValueError, pki.PkiError) as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(self.style.SUCCESS(f"Revoked {serial:#x}; CRL re-issued."))
            return
        if pki.init(directory, force=options["force"]):
            self.stdout.write(self.style.SUCCESS(f"Development PKI created in {directory}"))
            root = pki.root_certificate(directory)
            self.stdout.write(f"  root CA: {root.subject.rfc4514_string()}")
            self.stdout.write("  keys encrypted with SALTER_PKI_PASSPHRASE")
            self.stdout.write(f"  CRL of the issuing CA: {pki.crl_url('intermediate')}")
        else:
            self.stdout.write(f"Development PKI already in {directory} (kept; --force replaces it)")
