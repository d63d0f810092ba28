"""Backup and restore (docs/operations.md): the drill — a deployment with a submitted case and a
stored file is backed up, restored into an empty database as another deployment would be (its
own settings, directory and database, the keys from the keys archive), and there `salter audit
verify` passes and the case and its file read back as they were. And the refusals: a damaged
archive, a backup made by newer code, a target that is not empty."""

from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
import shlex
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from conftest import missing_tool
from django.core.management import CommandError, call_command
from django.db import connection

from salter.audit.models import AuditEvent
from salter.authorities.models import Authority, OrgUnit
from salter.core import backup
from salter.core.context import Actor
from salter.documents import services as documents
from salter.documents.models import Document
from salter.documents.uploads import check
from salter.exchange.tests.tracker_helpers import world
from salter.identity.models import User

SALTER = Path(sys.executable).with_name("salter")
SCAN = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4  # a scan attached to the application

# On the restored copy, in one process (each start of `salter` costs seconds): the audit chain
# is verified by its command, then the case and its file are read.
CHECK_COPY = """
import hashlib, json
from django.core.management import call_command
from salter.cases.models import Case
from salter.documents.models import DocumentVersion
from salter.documents.services import verify_file
call_command("audit", "verify")
case = Case.objects.get(pk={case})
version = DocumentVersion.objects.get(pk={version})
with version.file.open("rb") as handle:
    digest = hashlib.sha256(handle.read()).hexdigest()
print(json.dumps({{"number": case.registry_number, "state": case.state, "data": case.data,
                  "file_sha256": digest, "file_verified": verify_file(version)}}))
"""


def needs_client_tools() -> None:
    """On PostgreSQL, backups are pg_dump and pg_restore (`make test` installs them)."""
    if connection.vendor == "postgresql" and not shutil.which("pg_restore"):
        missing_tool("needs pg_dump and pg_restore (Debian package postgresql-client)")


@contextmanager
def empty_database(tmp_path: Path) -> Iterator[str]:
    """The DATABASE_URL of a new, empty database: a new SQLite file, or a scratch PostgreSQL
    database on the test server, dropped afterwards."""
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    db = connection.settings_dict
    name = f"salter_restore_{secrets.token_hex(4)}"
    login = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://{login}@{db['HOST']}:{db['PORT'] or 5432}/{name}"
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def secrets_of(keys_archive: Path) -> dict[str, str]:
    with tarfile.open(keys_archive) as tar:
        handle = tar.extractfile(backup.SECRETS)
        assert handle is not None
        lines = handle.read().decode().splitlines()
    return dict(shlex.split(line)[0].split("=", 1) for line in lines if line)


def salter(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(SALTER), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"salter {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_into_an_empty_database_and_reads_back(
    system: Actor,
    authority: Authority,
    unit: OrgUnit,
    citizen: User,
    tmp_path: Path,
    settings: Any,
) -> None:
    needs_client_tools()
    settings.MEDIA_ROOT = tmp_path / "media"
    case = world(system, authority, unit, citizen).case
    application = Document.objects.get(case=case, sub_number=0)
    version = documents.add_version(system, application, check("scan.png", SCAN))
    events = AuditEvent.objects.count()

    archive, keys = tmp_path / "salter.tar.gz", tmp_path / "salter-keys.tar.gz"
    out = io.StringIO()
    call_command("backup", str(archive), "--keys-to", str(keys), stdout=out)
    assert "Backup written" in out.getvalue()
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile(backup.MANIFEST))  # type: ignore[arg-type]
    assert not any(name.startswith("pki/") or name == backup.SECRETS for name in names)
    assert [key["id"] for key in manifest["keys"]["pii_keys"]] == ["dev"]
    assert settings.SALTER_PII_KEYS.partition(":")[2] not in json.dumps(manifest)
    assert f"files/{version.file.name}" in names

    with empty_database(tmp_path) as url:
        env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "PYTEST_XDIST_WORKER"}}
        env |= secrets_of(keys) | {
            "DJANGO_SETTINGS_MODULE": "salter.settings.dev",
            "SALTER_VAR_DIR": str(tmp_path / "restored"),
            "DATABASE_URL": url,
        }
        restored = salter(env, "restore", str(archive), "--keys", str(keys), "--skip-checks")
        assert "migrations: up to date" in restored.stdout
        assert (tmp_path / "restored" / "pki" / "root.crt").is_file()

        script = CHECK_COPY.format(case=case.pk, version=version.pk)
        checked = salter(env, "shell", "--no-imports", "-c", script).stdout.splitlines()
    assert f"Audit chain intact: {events} events." in checked
    read = json.loads(checked[-1])
    case.refresh_from_db()
    assert read["number"] == case.registry_number
    assert read["state"] == case.state
    assert read["data"] == case.data  # the personal numbers decrypted with the archived keys
    assert read["file_sha256"] == hashlib.sha256(SCAN).hexdigest()
    assert read["file_verified"] is True


@pytest.fixture
def archive(transactional_db: None, tmp_path: Path, settings: Any) -> Path:
    """A backup of the test database with one stored file."""
    needs_client_tools()
    settings.MEDIA_ROOT = tmp_path / "media"
    (tmp_path / "media" / "documents").mkdir(parents=True)
    (tmp_path / "media" / "documents" / "scan.png").write_bytes(SCAN)
    path = tmp_path / "salter.tar.gz"
    call_command("backup", str(path), stdout=io.StringIO())
    return path


def rewrite(path: Path, change: dict[str, Any]) -> None:
    """Rewrite the archive with some members' content replaced (by name)."""
    with tarfile.open(path) as tar:
        members = [(m, tar.extractfile(m)) for m in tar.getmembers()]
        contents = [(m, handle.read() if handle else b"") for m, handle in members]
    with tarfile.open(path, "w:gz") as tar:
        for member, data in contents:
            if member.name in change:
                replaced = change[member.name]
                data = replaced(data) if callable(replaced) else replaced
                member.size = len(data)
            tar.addfile(member, io.BytesIO(data))


def test_a_damaged_archive_is_refused_before_anything_is_touched(
    archive: Path, tmp_path: Path
) -> None:
    rewrite(archive, {"files/documents/scan.png": SCAN[:-1] + b"!"})
    with pytest.raises(CommandError, match=r"damaged or was altered.*scan.png: checksum"):
        call_command("restore", str(archive), "--force", stdout=io.StringIO())
    assert (tmp_path / "media" / "documents" / "scan.png").read_bytes() == SCAN

    (tmp_path / "junk.tar.gz").write_bytes(b"not an archive")
    with pytest.raises(CommandError, match="not a readable archive"):
        call_command("restore", str(tmp_path / "junk.tar.gz"), stdout=io.StringIO())


def test_a_backup_made_by_newer_code_is_refused(archive: Path) -> None:
    def from_the_future(data: bytes) -> bytes:
        manifest = json.loads(data)
        manifest["migrations"]["applied"]["cases"].append("9999_from_the_future")
        return json.dumps(manifest).encode()

    rewrite(archive, {backup.MANIFEST: from_the_future})
    with pytest.raises(CommandError, match=r"newer code.*cases\.9999_from_the_future"):
        call_command("restore", str(archive), stdout=io.StringIO())


def test_a_database_that_is_not_empty_is_refused(archive: Path) -> None:
    with pytest.raises(CommandError, match="is not empty.*--force"):
        call_command("restore", str(archive), stdout=io.StringIO())


def test_missing_personal_data_keys_are_refused(archive: Path, settings: Any) -> None:
    settings.SALTER_PII_KEYS = "other:" + "A" * 43
    with pytest.raises(CommandError, match=r"key\(s\) dev \(not in SALTER_PII_KEYS\)"):
        call_command("restore", str(archive), stdout=io.StringIO())


def test_force_replaces_what_the_database_and_the_files_hold(archive: Path, tmp_path: Path) -> None:
    """All of it, in one transaction on PostgreSQL: the schema is emptied and loaded together."""
    authorities_before = Authority.objects.count()
    added = tmp_path / "media" / "documents" / "later.png"
    added.write_bytes(SCAN)
    (tmp_path / "media" / "documents" / "scan.png").write_bytes(b"overwritten")
    Authority.objects.create(code="later", name="Added after the backup")

    out = io.StringIO()
    call_command("restore", str(archive), "--force", stdout=out)

    assert "database: loaded" in out.getvalue()
    assert Authority.objects.count() == authorities_before
    assert (tmp_path / "media" / "documents" / "scan.png").read_bytes() == SCAN
    assert added.exists()  # files the backup does not know stay; sweep_files removes orphans
