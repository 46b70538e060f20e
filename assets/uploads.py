"""An upload handler that streams files to disk and stops a request past the size limit."""

from __future__ import annotations

from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler

from assets import media

# Room for the multipart boundaries, part headers and the small form fields around a file.
MULTIPART_ALLOWANCE = 1024 * 1024


class ByteCountingUploadHandler(TemporaryFileUploadHandler):
    """Every file goes to a temporary file (never memory); past `max_bytes` the upload stops.

    `too_large` tells the view why the file is missing, so it can answer 413 with a message
    instead of "this field is required".
    """

    def __init__(self, request=None, max_bytes: int = media.MAX_BYTES):
        super().__init__(request)
        self.max_bytes = max_bytes
        self.too_large = False

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        # A body far past the limit is refused on its declared length, before a byte of
        # the file is read; the small fields in front of it (the CSRF token) still parse.
        if content_length and content_length > self.max_bytes + MULTIPART_ALLOWANCE:
            self.too_large = True
        return None

    def new_file(self, *args, **kwargs):
        if self.too_large:
            raise StopUpload(connection_reset=True)
        super().new_file(*args, **kwargs)

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.max_bytes:
            self.too_large = True
            # Drop the partial temporary file at once rather than at the end of the request.
            self.file.close()
            raise StopUpload(connection_reset=True)
        return super().receive_data_chunk(raw_data, start)
