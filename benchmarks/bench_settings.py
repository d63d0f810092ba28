"""Settings for ``make benchmark-cases``: the server's own (``salter.settings.dev``) with a
URLconf that adds the benchmark's one-row endpoint (``benchmarks/bench_urls.py``). Production
never loads this module."""

from salter.settings.dev import *  # noqa: F403

ROOT_URLCONF = "benchmarks.bench_urls"
