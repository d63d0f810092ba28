"""gunicorn for the crash test: the project's own settings (``src/salter/gunicorn.conf.py``),
plus one hook that tells the test when a worker has loaded the application, so that it kills
a worker only once its replacement serves (``SALTER_CRASH_READY_DIR``)."""

import os
import runpy
from pathlib import Path
from typing import Any

_project = Path(__file__).resolve().parents[2] / "src" / "salter" / "gunicorn.conf.py"
globals().update({k: v for k, v in runpy.run_path(str(_project)).items() if not k.startswith("__")})


def post_worker_init(worker: Any) -> None:
    (Path(os.environ["SALTER_CRASH_READY_DIR"]) / str(worker.pid)).touch()
