"""Settings split by environment: ``dev`` (default for ``make run``), ``test``, ``production``.

Every secret comes from the environment; see ``docs/configuration.md``.
"""
