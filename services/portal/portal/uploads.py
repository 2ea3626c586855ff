"""Files people upload (evidence, session photos, reports), kept under a random id with their SHA-256: the name
someone gave a file never becomes a path, a file is what its first bytes say it is, and it is no larger than the
limit."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from starlette.datastructures import UploadFile

from portal import security

CHUNK = 64 * 1024


@dataclass(frozen=True)
class Stored:
    upload_id: str
    filename: str
    media_type: str
    size_bytes: int
    sha256: str

    @property
    def reference(self) -> str:
        """The document-store URI the services keep (file_reference, photo_refs …)."""
        return f"portal://uploads/{self.upload_id}?sha256={self.sha256}"


class UploadRefused(ValueError):
    pass


def path_of(folder: Path, upload_id: str) -> Path:
    """Where an upload lives; anything but an id the portal made is refused (no traversal through an id)."""
    if not security.UPLOAD_ID.match(upload_id):
        raise UploadRefused("파일 번호가 올바르지 않습니다")
    return folder / upload_id


async def keep(upload: UploadFile, folder: Path, max_bytes: int) -> Stored:
    """Store an uploaded file, or refuse it with the reason in Korean."""
    folder.mkdir(parents=True, exist_ok=True)
    upload_id = security.new_upload_id()
    target, partial = path_of(folder, upload_id), folder / f"{upload_id}.partial"
    digest, size, head = hashlib.sha256(), 0, b""
    try:
        with partial.open("wb") as out:
            while chunk := await upload.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise UploadRefused(f"파일이 {max_bytes // (1024 * 1024)}MB보다 큽니다")
                if len(head) < 16:
                    head += chunk[:16]
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise UploadRefused("빈 파일입니다")
        kind = security.sniffed_type(head)
        if kind is None:
            raise UploadRefused(f"올릴 수 있는 파일은 {security.ALLOWED}입니다")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return Stored(upload_id, security.display_name(upload.filename or ""), kind[0], size, digest.hexdigest())


def upload_id_of(reference: str) -> str | None:
    """The upload id in a portal reference, or None for a reference elsewhere."""
    prefix = "portal://uploads/"
    if not reference.startswith(prefix):
        return None
    candidate = reference[len(prefix):].split("?", 1)[0]
    return candidate if security.UPLOAD_ID.match(candidate) else None
