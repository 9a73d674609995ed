"""An essential document's file: its size checked, its content sniffed (never trusted from the
name or the browser's word), its SHA-256 computed, and kept in the documents storage."""

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat

from croportal.exceptions import ApplicationError

# The kinds of file an essential document is: PDF, images, Office (OOXML and the older OLE
# formats) and plain text. Each with the endings a file of that kind may have.
PDF, PNG, JPEG, GIF, TIFF = ("application/pdf", "image/png", "image/jpeg", "image/gif",
                             "image/tiff")
OOXML = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
OLE = {".doc": "application/msword", ".xls": "application/vnd.ms-excel",
       ".ppt": "application/vnd.ms-powerpoint"}
TEXT = {".txt": "text/plain", ".csv": "text/csv", ".md": "text/plain"}
ACCEPTED = "PDF, PNG, JPEG, GIF, TIFF, Word, Excel, PowerPoint or plain text"
HEAD_BYTES = 8192


@dataclass(frozen=True)
class Checked:
    name: str
    size: int
    content_type: str
    sha256: str


def _clean_name(name: str) -> str:
    name = PurePath(name.replace("\\", "/")).name.replace("\x00", "").strip()
    if not name or name in {".", ".."}:
        raise ApplicationError("The file needs a name.", field="file")
    stem, dot, ending = name.rpartition(".")
    if len(name) > 120:  # room for the storage's folder in the 300-character path
        name = f"{stem[:110]}.{ending[:9]}" if dot else name[:120]
    return name


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut by the end of the sample is still text.
        return error.start >= len(head) - 3 and len(head) == HEAD_BYTES
    return True


def _sniff(upload: UploadedFile, head: bytes, ending: str) -> str | None:
    if head.startswith(b"%PDF-"):
        return PDF if ending == ".pdf" else None
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG if ending == ".png" else None
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG if ending in {".jpg", ".jpeg"} else None
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF if ending == ".gif" else None
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return TIFF if ending in {".tif", ".tiff"} else None
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return OLE.get(ending)
    if head.startswith(b"PK\x03\x04") and ending in OOXML:
        upload.seek(0)
        try:
            with zipfile.ZipFile(upload) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return None
        folder = {".docx": "word/", ".xlsx": "xl/", ".pptx": "ppt/"}[ending]
        if "[Content_Types].xml" in names and any(n.startswith(folder) for n in names):
            return OOXML[ending]
        return None
    if ending in TEXT and _is_text(head):
        return TEXT[ending]
    return None


def checked_file(*, upload: UploadedFile) -> Checked:
    """The upload's name, size, sniffed type and SHA-256; an ApplicationError on `file` when it
    is empty, too large, or not a kind of file an essential document may be."""
    name = _clean_name(upload.name or "")
    size = upload.size or 0
    if size == 0:
        raise ApplicationError("The file is empty.", field="file")
    if size > settings.DOCUMENT_MAX_BYTES:
        raise ApplicationError(
            f"The file is {filesizeformat(size)}; the limit is "
            f"{filesizeformat(settings.DOCUMENT_MAX_BYTES)}.", field="file")
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    ending = PurePath(name).suffix.lower()
    content_type = _sniff(upload, head, ending)
    if content_type is None:
        raise ApplicationError(
            f"“{name}” is not a file an essential document may be: upload a {ACCEPTED} file "
            "whose content matches its name's ending.", field="file")
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return Checked(name=name, size=size, content_type=content_type, sha256=digest.hexdigest())


def as_upload(*, data: bytes, name: str) -> UploadedFile:
    """Bytes as an upload (for commands and tests that file a document without a browser)."""
    return UploadedFile(io.BytesIO(data), name=name, size=len(data))
