"""``salter``: Django's management commands under one name (``salter migrate``, ``salter audit
verify``, ``salter seed``…)."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salter.settings.dev")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["salter", *sys.argv[1:]])


if __name__ == "__main__":
    main()
