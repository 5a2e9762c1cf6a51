"""Upload handling in the web process: stream to disk, hash and cap while the bytes arrive."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler


class CappedUploadHandler(TemporaryFileUploadHandler):
    """Write each uploaded file to a temporary file in chunks, hashing it on the way.

    Past settings.MAX_UPLOAD_BYTES the upload stops at once: the partial file is deleted, the
    rest of the request body is read and discarded (memory stays flat), and the view finds
    `request.upload_too_large` set, so it can answer with a clear message.
    """

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0
        self.digest = hashlib.sha256()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.received += len(raw_data)
        if self.received > settings.MAX_UPLOAD_BYTES:
            self.file.close()  # a NamedTemporaryFile: closing deletes it
            self.request.upload_too_large = True  # type: ignore[union-attr]
            raise StopUpload(connection_reset=False)
        self.digest.update(raw_data)
        return super().receive_data_chunk(raw_data, start)

    def file_complete(self, file_size: int) -> Any:
        uploaded = super().file_complete(file_size)
        uploaded.sha256 = self.digest.hexdigest()
        return uploaded
