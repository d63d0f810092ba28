"""The limits of a route that takes files: the JSON limit admits a file at the per-file limit
in base64; a multipart body is refused by its length before it is read; a file over the limit
is counted, not kept, and arrives with its real size."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import MemoryFileUploadHandler
from django.test import RequestFactory
from django.utils import translation

from salter.core import body_limits, upload_limits
from salter.core.errors import ApiError

MB = 1024 * 1024


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def test_megabytes_never_round_a_size_over_the_limit_down_to_it() -> None:
    assert upload_limits.megabytes(20 * MB) == "20"
    assert upload_limits.megabytes(20 * MB + 1) == "20"
    assert upload_limits.megabytes(20 * MB + 1, up=True) == "20.1"
    assert upload_limits.megabytes(int(2.5 * MB)) == "2.5"


def test_the_json_limit_admits_one_file_at_the_limit_in_base64(settings: Any) -> None:
    assert upload_limits.json_max_bytes() == 28 * MB  # 20 MB → 26.7 MB of base64, 1 MB more
    for size in (MB, 5 * MB, 20 * MB, 50 * MB):
        settings.SALTER_UPLOAD_MAX_BYTES = size
        assert upload_limits.json_max_bytes() >= upload_limits.base64_size(size) + MB
    settings.SALTER_API_JSON_MAX_BYTES = 7 * MB
    assert upload_limits.json_max_bytes() == 7 * MB
    assert upload_limits.base64_size(3) == 4 and upload_limits.base64_size(4) == 8


def test_a_route_declares_its_own_body_limit(rf: RequestFactory, settings: Any) -> None:
    body_limits.declare("post", "/api/v1/test-only", lambda: 9 * MB)
    assert body_limits.for_request(rf.post("/api/v1/test-only")) == 9 * MB
    assert (
        body_limits.for_request(rf.get("/api/v1/test-only")) == settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    )
    assert body_limits.for_request(rf.post("/api/v1/cases")) == settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def test_read_body_refuses_by_the_declared_length_naming_the_limit(rf: RequestFactory) -> None:
    body = json.dumps({"x": "y" * 150_000})
    request = rf.post("/api/v1/x", body, content_type="application/json")
    assert upload_limits.read_body(request, 200_000) == body.encode()
    request = rf.post("/api/v1/x", body, content_type="application/json")
    with pytest.raises(ApiError) as refused:
        upload_limits.read_body(request, 100 * 1024, "Send it as multipart/form-data.")
    error = refused.value
    assert (error.status, error.code) == (413, "request_too_large")
    assert error.message == (
        "The request is 146.5 kB; at most 100 kB are accepted here. Send it as multipart/form-data."
    )
    assert error.details == {"size_bytes": len(body), "limit_bytes": 100 * 1024}


def multipart(rf: RequestFactory, files: dict[str, bytes], file_max: int, request_max: int) -> Any:
    data = {name: SimpleUploadedFile(name, content) for name, content in files.items()}
    request = rf.post("/api/v1/upload", data)
    request.upload_handlers = [
        upload_limits.LimitedUploadHandler(request, file_max=file_max, request_max=request_max),
        MemoryFileUploadHandler(request),
    ]
    return request


def test_a_file_over_the_limit_is_counted_not_kept(rf: RequestFactory) -> None:
    request = multipart(rf, {"small": b"s" * 100, "large": b"L" * 5000}, 1000, MB)
    small, large = request.FILES["small"], request.FILES["large"]
    assert small.read() == b"s" * 100
    assert isinstance(large, upload_limits.OversizedUpload)
    assert (large.name, large.size, large.read()) == ("large", 5000, b"")


def test_a_multipart_body_over_the_limit_is_refused_before_it_is_read(rf: RequestFactory) -> None:
    request = multipart(rf, {"a": b"a" * 3000}, MB, 2000)
    with pytest.raises(ApiError) as refused:
        request.FILES  # noqa: B018 — parsing is what is refused
    assert (refused.value.status, refused.value.code) == (413, "request_too_large")
    assert refused.value.details["limit_bytes"] == 2000
