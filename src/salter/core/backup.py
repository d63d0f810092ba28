"""Backup and restore (``salter backup`` / ``salter restore``; docs/operations.md).

The contract:

- A backup is one archive (tar, gzip) holding the database (``database/``: SQLite copied online
  with sqlite3's backup API, PostgreSQL as ``pg_dump --format=custom``), the stored files
  (``files/``: MEDIA_ROOT) and, last, ``manifest.json``: format version, time, backend, the
  migrations applied (the last per app, and all of them), and the size and SHA-256 of every
  member.
- The database is copied before the files. A file is written before the row that names it
  commits (documents/services.py), so every file the copy names is on disk by then; files newer
  than the copy are orphans that ``salter sweep_files`` removes.
- Keys never go into that archive: ``SALTER_SECRET_KEY``, ``SALTER_PII_KEYS`` (personal
  numbers are encrypted with them, core/pii.py) and the PKI in ``SALTER_PKI_DIR``. Whoever holds
  the data archive alone reads no personal number. The manifest names the keys a restore needs —
  ids and fingerprints, never the keys —, and a separate keys archive is written only when asked
  for, to be kept somewhere else.
- A restore refuses before it touches anything: an archive whose members do not match their
  checksums, another backend than the configured one, migrations this code does not have, a
  personal-data key the settings lack, a database or files directory that is not empty (unless
  forced). Then it loads the database, copies the files and migrates forward.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import shlex
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from salter.core import pii

FORMAT = "salter-backup"
KEYS_FORMAT = "salter-keys"
VERSION = 1
MANIFEST = "manifest.json"
SECRETS = "secrets.env"
SQLITE_MEMBER = "database/salter.sqlite3"
POSTGRES_MEMBER = "database/salter.pgdump"
_MEMBERS = {"sqlite": SQLITE_MEMBER, "postgresql": POSTGRES_MEMBER}
FILES = "files/"
PKI = "pki/"
_CHUNK = 1 << 20

Log = Callable[[str], None]


class BackupError(Exception):
    """A refusal or a failure, in words for the operator (the commands print it, no traceback)."""


# --- what the archive records ------------------------------------------------------------------


def backend() -> str:
    if connection.vendor in {"sqlite", "postgresql"}:
        return connection.vendor
    raise BackupError(f"Backups support SQLite and PostgreSQL, not {connection.vendor}.")


def fingerprint(secret: bytes) -> str:
    """Tells whether two keys are the same without saying anything about either."""
    return hmac.new(secret, b"salter backup key fingerprint", hashlib.sha256).hexdigest()[:16]


def keys_needed() -> dict[str, Any]:
    """The keys a restore of this deployment's data needs, by id and fingerprint."""
    pki_dir = Path(settings.SALTER_PKI_DIR)
    return {
        "kept_apart": True,
        "secret_key": {
            "setting": "SALTER_SECRET_KEY",
            "fingerprint": fingerprint(settings.SECRET_KEY.encode()),
        },
        "pii_keys": [
            {"id": key.id, "fingerprint": fingerprint(key.index), "current": index == 0}
            for index, key in enumerate(pii.keys())
        ],
        "pki": {
            "setting": "SALTER_PKI_DIR",
            "files": sorted(str(p.relative_to(pki_dir)) for p in _files_under(pki_dir)),
            "pkcs12": bool(settings.SALTER_SEAL_PKCS12_DIR or settings.SALTER_SIGNER_PKCS12_DIR),
            "pkcs11": bool(settings.SALTER_PKCS11_MODULE),
        },
    }


def applied_migrations() -> dict[str, list[str]]:
    applied: dict[str, list[str]] = {}
    rows = MigrationRecorder(connection).migration_qs.order_by("id").values_list("app", "name")
    for app, name in rows:
        applied.setdefault(app, []).append(name)
    return applied


def unknown_migrations(applied: dict[str, list[str]]) -> list[str]:
    """Migrations of a backup that this code does not have: it was made by newer code."""
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    return [
        f"{app}.{name}"
        for app, names in applied.items()
        for name in names
        if (app, name) not in known
    ]


# --- archives ----------------------------------------------------------------------------------


@dataclass
class Writer:
    """A tar archive written to ``<path>.partial`` and renamed when complete, readable by its
    owner only; each member's size and SHA-256 are recorded as it is written."""

    path: Path
    members: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.partial = self.path.with_name(self.path.name + ".partial")
        try:
            descriptor = os.open(self.partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as error:
            raise BackupError(f"Cannot write {self.partial}: {error.strerror}.") from error
        self.raw = os.fdopen(descriptor, "wb")
        self.tar = tarfile.open(fileobj=self.raw, mode="w:gz", compresslevel=6)

    def add_file(self, source: Path, name: str) -> None:
        info = tarfile.TarInfo(name)
        stat = source.stat()
        info.size, info.mtime, info.mode = stat.st_size, int(stat.st_mtime), 0o600
        digest = hashlib.sha256()
        with source.open("rb") as handle:
            try:
                self.tar.addfile(info, _Hashing(handle, digest))
            except OSError as error:  # the file changed while it was read
                raise BackupError(f"{source} changed while it was copied: {error}.") from error
        self.members.append({"name": name, "size": info.size, "sha256": digest.hexdigest()})

    def add_bytes(self, data: bytes, name: str, *, record: bool = True) -> None:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = len(data), int(datetime.now(UTC).timestamp()), 0o600
        self.tar.addfile(info, io.BytesIO(data))
        if record:
            sha = hashlib.sha256(data).hexdigest()
            self.members.append({"name": name, "size": len(data), "sha256": sha})

    def finish(self, manifest: dict[str, Any]) -> None:
        manifest["members"] = self.members
        self.add_bytes(json.dumps(manifest, indent=2).encode(), MANIFEST, record=False)
        self.tar.close()
        self.raw.flush()
        os.fsync(self.raw.fileno())
        self.raw.close()
        os.replace(self.partial, self.path)

    def abandon(self) -> None:
        self.tar.close()
        self.raw.close()
        self.partial.unlink(missing_ok=True)


class _Hashing(io.RawIOBase):
    def __init__(self, handle: BinaryIO, digest: Any) -> None:
        self.handle, self.digest = handle, digest

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _files_under(root: Path) -> Iterator[Path]:
    if root.is_dir():
        yield from sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def open_archive(path: Path, staging: Path, expected_format: str) -> dict[str, Any]:
    """Unpack ``path`` into ``staging`` and check every member against the manifest; the
    manifest, or a :class:`BackupError` saying what does not match."""
    if not path.is_file():
        raise BackupError(f"{path} does not exist.")
    try:
        with tarfile.open(path, mode="r:*") as tar:
            tar.extractall(staging, filter="data")
    except (tarfile.TarError, OSError, EOFError) as error:
        raise BackupError(f"{path} is not a readable archive: {error}.") from error
    try:
        manifest = json.loads((staging / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BackupError(
            f"{path} has no readable {MANIFEST}: it is not a Šalter backup."
        ) from error
    kind = manifest.get("format") if isinstance(manifest, dict) else None
    if kind != expected_format:
        raise BackupError(f"{path} is not a {expected_format} archive ({kind}).")
    if manifest.get("version") != VERSION:
        raise BackupError(
            f"{path} is format version {manifest.get('version')}; "
            f"this code reads version {VERSION}."
        )
    try:
        listed = {str(m["name"]): m for m in manifest["members"]}
        whole = all(isinstance(m["size"], int) and m["sha256"] for m in listed.values()) and (
            expected_format == KEYS_FORMAT
            or (
                isinstance(manifest["migrations"]["applied"], dict)
                and isinstance(manifest["keys"]["pii_keys"], list)
                and manifest["database"]["member"] == _MEMBERS[manifest["backend"]]
            )
        )
    except (KeyError, TypeError):
        whole = False
    if not whole:
        raise BackupError(f"{path}: its {MANIFEST} is incomplete or malformed.")
    present = {str(p.relative_to(staging)) for p in _files_under(staging)} - {MANIFEST}
    problems = [f"{name}: missing" for name in sorted(listed.keys() - present)]
    problems += [f"{name}: not in the manifest" for name in sorted(present - listed.keys())]
    for name in sorted(listed.keys() & present):
        member = staging / name
        if (
            member.stat().st_size != listed[name]["size"]
            or sha256_of(member) != listed[name]["sha256"]
        ):
            problems.append(f"{name}: checksum does not match")
    if problems:
        shown = "; ".join(problems[:10]) + ("; …" if len(problems) > 10 else "")
        raise BackupError(
            f"{path} is damaged or was altered, nothing was restored ({len(problems)} "
            f"members): {shown}."
        )
    return manifest


# --- databases ---------------------------------------------------------------------------------


def _pg_command(tool: str) -> tuple[list[str], dict[str, str]]:
    executable = shutil.which(tool)
    if executable is None:
        raise BackupError(f"{tool} is not installed (Debian package postgresql-client).")
    db = connection.settings_dict
    args = [executable]
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if db.get(key):
            args += [flag, str(db[key])]
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    for option, variable in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT")):
        if db.get("OPTIONS", {}).get(option):
            env[variable] = str(db["OPTIONS"][option])
    return args, env


def _run(args: list[str], env: dict[str, str], what: str) -> str:
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{what} failed: {result.stderr.strip() or result.returncode}")
    return result.stdout.strip()


def dump_database(target: Path) -> str:
    """Copy the database into ``target``; a line saying how."""
    if backend() == "sqlite":
        connection.ensure_connection()
        with sqlite3.connect(target) as copy:
            connection.connection.backup(copy)
        copy.close()
        return f"sqlite3 online backup (SQLite {sqlite3.sqlite_version})"
    args, env = _pg_command("pg_dump")
    version = _run([args[0], "--version"], env, "pg_dump --version")
    _run(
        [*args, "--format=custom", "--file", str(target), str(connection.settings_dict["NAME"])],
        env,
        "pg_dump",
    )
    return version


def database_is_empty() -> bool:
    return not connection.introspection.table_names()


def load_database(source: Path, *, replace: bool) -> None:
    """Load the copy; all or nothing. Replacing a PostgreSQL database empties its schema
    ``public`` in the same transaction as the load (``pg_restore --clean`` cannot drop the
    partitions of the partitioned tables), so a failed load leaves the old content."""
    if backend() == "sqlite":
        connection.ensure_connection()
        with sqlite3.connect(source) as copy:
            copy.backup(connection.connection)
        copy.close()
        connection.close()
        return
    restore_args, env = _pg_command("pg_restore")
    options = ["--no-owner", "--no-privileges", "--exit-on-error"]
    name = str(connection.settings_dict["NAME"])
    connection.close()
    if not replace:
        _run(
            [*restore_args, *options, "--single-transaction", "--dbname", name, str(source)],
            env,
            "pg_restore",
        )
        return
    psql_args, _env = _pg_command("psql")
    reader = subprocess.Popen(  # noqa: S603
        [*restore_args, *options, "--file", "-", str(source)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert reader.stdout is not None and reader.stderr is not None
    loader = subprocess.run(  # noqa: S603
        [
            *psql_args,
            "--quiet",
            "--no-psqlrc",
            "--single-transaction",
            "--set=ON_ERROR_STOP=1",
            "--command=DROP SCHEMA public CASCADE",
            "--command=CREATE SCHEMA public",
            "--file=-",
            "--dbname",
            name,
        ],
        env=env,
        stdin=reader.stdout,
        capture_output=True,
        text=True,
        check=False,
    )
    reader.stdout.close()
    failed_reading = reader.wait() != 0
    if failed_reading or loader.returncode != 0:
        problem = reader.stderr.read().decode().strip() if failed_reading else loader.stderr.strip()
        raise BackupError(f"pg_restore into {name} failed, nothing changed: {problem}")


# --- backup ------------------------------------------------------------------------------------


def media_root() -> Path | None:
    """The stored files' directory, or None when they live in an object store (S3…), which
    keeps its own versions and is not copied here."""
    storage = storages["default"]
    return Path(storage.location) if isinstance(storage, FileSystemStorage) else None


def create(
    path: Path, *, keys_to: Path | None = None, log: Log = lambda _line: None
) -> dict[str, Any]:
    """Write a backup to ``path`` (and the keys to ``keys_to`` if given); the manifest."""
    path, keys_to = path.resolve(), keys_to.resolve() if keys_to else None
    if path.exists():
        raise BackupError(f"{path} already exists; choose a new name.")
    if keys_to is not None and (keys_to == path or keys_to.exists()):
        raise BackupError(f"{keys_to} already exists or is the data archive; choose a new name.")
    kind = backend()
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "backend": kind,
    }
    applied = applied_migrations()
    manifest["migrations"] = {
        "last": {app: names[-1] for app, names in applied.items()},
        "applied": applied,
    }
    manifest["keys"] = keys_needed()
    writer = Writer(path)
    try:
        with tempfile.TemporaryDirectory(prefix=".salter-backup-", dir=path.parent) as staging:
            member = SQLITE_MEMBER if kind == "sqlite" else POSTGRES_MEMBER
            dump = Path(staging) / Path(member).name
            manifest["database"] = {"member": member, "made_with": dump_database(dump)}
            writer.add_file(dump, member)
            log(f"database: {member} ({dump.stat().st_size} bytes)")
        root = media_root()
        count = size = 0
        if root is not None:
            for file in _files_under(root):
                writer.add_file(file, FILES + str(file.relative_to(root)))
                count, size = count + 1, size + writer.members[-1]["size"]
        manifest["files"] = {"included": root is not None, "count": count, "bytes": size}
        log(f"files: {count} ({size} bytes)" if root else "files: in object storage, not copied")
        writer.finish(manifest)
    except BaseException:
        writer.abandon()
        raise
    if keys_to is not None:
        write_keys(keys_to, manifest["created_at"])
        log(f"keys: {keys_to} — keep it apart from the backup")
    return manifest


def write_keys(path: Path, created_at: str) -> None:
    """The keys archive: the secrets as environment lines and the PKI directory."""
    secrets = {
        "SALTER_SECRET_KEY": settings.SECRET_KEY,
        "SALTER_PII_KEYS": settings.SALTER_PII_KEYS,
    }
    if os.environ.get("SALTER_PKI_PASSPHRASE"):
        secrets["SALTER_PKI_PASSPHRASE"] = settings.SALTER_PKI_PASSPHRASE
    # Quoted for a shell: `set -a; . ./secrets.env` reads them back whatever characters they hold.
    lines = [f"{name}={shlex.quote(value)}" for name, value in secrets.items()]
    writer = Writer(path)
    try:
        writer.add_bytes(("\n".join(lines) + "\n").encode(), SECRETS)
        pki_dir = Path(settings.SALTER_PKI_DIR)
        for file in _files_under(pki_dir):
            writer.add_file(file, PKI + str(file.relative_to(pki_dir)))
        writer.finish({"format": KEYS_FORMAT, "version": VERSION, "created_at": created_at})
    except BaseException:
        writer.abandon()
        raise


# --- restore -----------------------------------------------------------------------------------


def missing_keys(needed: dict[str, Any]) -> list[str]:
    """The personal-data keys of a backup that the settings lack or hold differently."""
    configured = {key.id: fingerprint(key.index) for key in pii.keys()}
    problems = []
    for key in needed["pii_keys"]:
        if key.get("id") not in configured:
            problems.append(f"{key['id']} (not in SALTER_PII_KEYS)")
        elif configured[key["id"]] != key.get("fingerprint"):
            problems.append(f"{key['id']} (SALTER_PII_KEYS holds another key under that id)")
    return problems


def restore(
    path: Path,
    *,
    force: bool = False,
    keys_from: Path | None = None,
    allow_missing_keys: bool = False,
    log: Log = lambda _line: None,
) -> dict[str, Any]:
    """Restore the backup at ``path`` into the configured database and MEDIA_ROOT (and the PKI
    from ``keys_from``); the manifest. Every check runs before anything is written."""
    with tempfile.TemporaryDirectory(prefix="salter-restore-") as scratch:
        staging, key_staging = Path(scratch) / "data", Path(scratch) / "keys"
        manifest = open_archive(path.resolve(), staging, FORMAT)
        log(f"checksums: {len(manifest['members'])} members match the manifest")
        if keys_from is not None:
            open_archive(keys_from.resolve(), key_staging, KEYS_FORMAT)
        if manifest["backend"] != backend():
            raise BackupError(
                f"The backup is of a {manifest['backend']} database; the configured database "
                f"(DATABASE_URL) is {backend()}. Restore into the same kind of database."
            )
        newer = unknown_migrations(manifest["migrations"]["applied"])
        if newer:
            raise BackupError(
                "The backup was made by newer code: this code lacks its migrations "
                f"{', '.join(newer[:5])}{' …' if len(newer) > 5 else ''}. Restore it with the "
                "version of Šalter that made it, or a later one."
            )
        missing = missing_keys(manifest["keys"])
        if missing and not allow_missing_keys:
            raise BackupError(
                f"The backup's personal data is encrypted under key(s) {', '.join(missing)}. Set "
                "SALTER_PII_KEYS as it was (the keys archive's secrets.env holds it), or pass "
                "--allow-missing-keys to restore data that cannot be read."
            )
        root = media_root()
        pki_dir = Path(settings.SALTER_PKI_DIR)
        if not force:
            if not database_is_empty():
                raise BackupError(
                    f"The database {connection.settings_dict['NAME']} is not empty: restore "
                    "into an empty database, or pass --force to replace what it holds."
                )
            if root is not None and any(_files_under(root)):
                raise BackupError(f"{root} (MEDIA_ROOT) holds files: empty it, or pass --force.")
            if keys_from is not None and any(_files_under(pki_dir)):
                raise BackupError(
                    f"{pki_dir} (SALTER_PKI_DIR) holds files: empty it, or pass --force."
                )

        replace = not database_is_empty()
        load_database(staging / manifest["database"]["member"], replace=replace)
        log(f"database: loaded into {connection.settings_dict['NAME']}")
        _copy_tree(staging / FILES.rstrip("/"), root, log, "files")
        if keys_from is not None:
            _copy_tree(key_staging / PKI.rstrip("/"), pki_dir, log, "pki")
            log(f"keys: the secrets are in {SECRETS} of {keys_from}; set them in the environment")
        secret = fingerprint(settings.SECRET_KEY.encode())
        if secret != manifest["keys"].get("secret_key", {}).get("fingerprint"):
            log("warning: SALTER_SECRET_KEY is not the backup's: sessions and signed links end")
        plan = MigrationExecutor(connection).migration_plan(
            MigrationLoader(connection).graph.leaf_nodes()
        )
        if plan:
            call_command("migrate", interactive=False, verbosity=0)
            log(f"migrations: {len(plan)} applied forward (the backup was made by older code)")
        else:
            log("migrations: up to date")
    return manifest


def _copy_tree(source: Path, target: Path | None, log: Log, label: str) -> None:
    if not source.is_dir():
        log(f"{label}: none in the archive")
        return
    if target is None:
        log(f"{label}: the archive holds files but storage is not a directory; not copied")
        return
    count = 0
    for file in _files_under(source):
        destination = target / file.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(file, destination)
        count += 1
    log(f"{label}: {count} copied into {target}")
