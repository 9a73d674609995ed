"""Handing out an essential document's file, for the page and the API alike: only after the
caller has found the document among those it may read, as an attachment, never rendered."""

from django.http import FileResponse, Http404

from sites.models import EssentialDocument


def document_file_response(document: EssentialDocument) -> FileResponse:
    if not document.file:
        raise Http404("This document holds no file.")
    try:
        handle = document.file.open("rb")
    except FileNotFoundError as missing:
        raise Http404("The document's file is not in the storage.") from missing
    response = FileResponse(handle, as_attachment=True, filename=document.file_name,
                            content_type=document.file_type or "application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    if document.file_sha256:
        response["X-Content-SHA256"] = document.file_sha256
    return response
