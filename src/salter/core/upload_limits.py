"""Limits on what an API route that takes files reads, enforced as the request comes in.

Django's own limits count the wrong thing for such a route. ``DATA_UPLOAD_MAX_MEMORY_SIZE``
(2.5 MB) caps every body that is not multipart, so a JSON letter with one 3 MB file in base64
was refused long before the documented 20 MB a file; and it caps nothing of a multipart body's
files, which Django spools to disk however large they are. Here a route states its own limits:

- :func:`limit_uploads` (a ninja ``decorate_view`` decorator) puts a :class:`LimitedUploadHandler`
  first among the request's upload handlers before anything parses the body — before the
  session's CSRF check, which reads the form. The handler refuses a multipart body whose length
  is over the route's total at once (413 ``request_too_large``), and counts each file's bytes as
  they stream in: past the per-file limit the rest is counted but no longer kept, and the file
  arrives as an :class:`OversizedUpload` — its name and real size, no content — which the usual
  checks refuse by its size, naming the limit. An oversized file never lands on the disk whole.
- :func:`read_body` reads a body that is not multipart under the route's own limit; the route
  declares that limit in :mod:`salter.core.body_limits`, so that a check of ``Content-Length``
  made before it runs lets its body through.
"""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest
from django.utils.translation import ngettext

from salter.core import body_limits
from salter.core.body_limits import MB, megabytes
from salter.core.errors import ApiError

DEFAULT_FILE_MAX_BYTES = 20 * MB
DEFAULT_FORM_FIELDS_BYTES = int(2.5 * MB)  # Django's default DATA_UPLOAD_MAX_MEMORY_SIZE


def max_file_bytes() -> int:
    """The largest file an upload may be (``SALTER_UPLOAD_MAX_BYTES``, 20 MB)."""
    return int(getattr(settings, "SALTER_UPLOAD_MAX_BYTES", DEFAULT_FILE_MAX_BYTES))


def form_fields_bytes() -> int:
    """What a multipart body may carry besides its files: Django's limit on the form's fields
    (``DATA_UPLOAD_MAX_MEMORY_SIZE``), which also leaves room for each part's headers."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return int(limit) if limit is not None else DEFAULT_FORM_FIELDS_BYTES


def base64_size(size: int) -> int:
    """The length of ``size`` bytes in base64: 4 characters for every 3 bytes begun."""
    return 4 * math.ceil(size / 3)


def json_max_bytes() -> int:
    """The largest JSON body a route that takes files in base64 reads
    (``SALTER_API_JSON_MAX_BYTES``). By default room for one file at :func:`max_file_bytes`
    in base64 and 1 MB for the rest of the body, in whole MB: 28 MB for 20 MB a file."""
    configured = getattr(settings, "SALTER_API_JSON_MAX_BYTES", None)
    if configured:
        return int(configured)
    return math.ceil((base64_size(max_file_bytes()) + MB) / MB) * MB


def content_length(request: HttpRequest) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def too_large(size: int, limit: int, advice: str = "") -> ApiError:
    """413 ``request_too_large``, naming the body's size and the limit in MB."""
    message = body_limits.too_large_message(size, limit)
    return ApiError(
        413,
        "request_too_large",
        f"{message} {advice}".strip(),
        details={"size_bytes": size, "limit_bytes": limit},
    )


# --- JSON bodies --------------------------------------------------------------------------


def read_body(request: HttpRequest, limit: int, advice: str = "") -> bytes:
    """The body, if it is at most ``limit`` bytes — refused by its declared length before it
    is read — else :func:`too_large`. Read from the stream, not ``request.body``, which would
    hold it to ``DATA_UPLOAD_MAX_MEMORY_SIZE``."""
    declared = content_length(request)
    if declared > limit:
        raise too_large(declared, limit, advice)
    data = request.read(limit + 1)
    if len(data) > limit:  # pragma: no cover — the WSGI stream stops at Content-Length
        raise too_large(len(data), limit, advice)
    return data


# --- multipart bodies ---------------------------------------------------------------------


class OversizedUpload(UploadedFile):
    """A file that arrived over the limit: its name and its real size; nothing of its content
    was kept (reading it gives no bytes). Checks that look at ``size`` first refuse it."""

    def __init__(
        self,
        name: str,
        content_type: str,
        size: int,
        charset: str | None,
        content_type_extra: dict[str, Any] | None,
    ) -> None:
        super().__init__(io.BytesIO(), name, content_type, size, charset, content_type_extra)


class LimitedUploadHandler(FileUploadHandler):
    """First of the request's upload handlers: a body over ``request_max`` is refused before
    it is read; a file over ``file_max`` is counted, not kept (:class:`OversizedUpload`)."""

    def __init__(
        self, request: HttpRequest, *, file_max: int, request_max: int, advice: str = ""
    ) -> None:
        super().__init__(request)
        self.file_max = file_max
        self.request_max = request_max
        self.advice = advice
        self.received = 0

    def handle_raw_input(
        self,
        input_data: Any,
        META: dict[str, Any],  # noqa: N803 — Django's name
        content_length: int,
        boundary: str,
        encoding: str | None = None,
    ) -> None:
        if content_length > self.request_max:
            raise too_large(content_length, self.request_max, self.advice)

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        # None: the handlers after this one (memory, temporary file) get no more of it.
        return raw_data if self.received <= self.file_max else None

    def file_complete(self, file_size: int) -> UploadedFile | None:
        if self.received <= self.file_max:
            return None  # the next handler gives the file
        return OversizedUpload(
            str(self.file_name or ""),
            str(self.content_type or ""),
            self.received,
            self.charset,
            self.content_type_extra,
        )


def limit_uploads(files: int, file_max: Callable[[], int] = max_file_bytes) -> Callable[..., Any]:
    """For ``ninja.decorators.decorate_view``: the route takes at most ``files`` files of at
    most ``file_max()`` bytes each in a multipart body; the body may be that much and
    :func:`form_fields_bytes` more. Runs before authentication, which may read the form."""

    def decorator(run: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(run)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            each = file_max()
            advice = ngettext(
                "It takes at most %(n)s file of at most %(limit)s MB.",
                "It takes at most %(n)s files of at most %(limit)s MB each.",
                files,
            ) % {"n": files, "limit": megabytes(each)}
            handler = LimitedUploadHandler(
                request,
                file_max=each,
                request_max=files * each + form_fields_bytes(),
                advice=advice,
            )
            request.upload_handlers.insert(0, handler)
            return run(request, *args, **kwargs)

        return wrapper

    return decorator
