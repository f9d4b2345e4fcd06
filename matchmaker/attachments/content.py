"""What an uploaded file really is, judged by its bytes: the allowed types and the check every upload passes."""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
DOC = "application/msword"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OFD = "application/ofd"

TYPE_NAMES = {PDF: "PDF", PNG: "PNG 图片", JPEG: "JPEG 图片", DOC: "Word（doc）", DOCX: "Word（docx）",
              XLSX: "Excel（xlsx）", OFD: "OFD 版式文件"}
# The name endings that go with each type; a name with another known ending is refused as misleading.
EXTENSIONS = {PDF: (".pdf",), PNG: (".png",), JPEG: (".jpg", ".jpeg"), DOC: (".doc",), DOCX: (".docx",),
              XLSX: (".xlsx",), OFD: (".ofd",)}
KNOWN_EXTENSIONS = {e for exts in EXTENSIONS.values() for e in exts} | {
    ".xls", ".xlsm", ".docm", ".html", ".htm", ".svg", ".js", ".exe", ".bat", ".sh", ".zip", ".rar", ".txt"}

# Documents attached to demands, projects and offers; notices also take the old binary Word format.
DOCUMENT_TYPES = (PDF, PNG, JPEG, DOCX, XLSX, OFD)

_SIGNATURES = ((b"%PDF-", PDF), (b"\x89PNG\r\n\x1a\n", PNG), (b"\xff\xd8\xff", JPEG),
               (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", DOC))
# The main part an OOXML package declares in [Content_Types].xml; macro-enabled packages declare another.
_OOXML_MAIN = ((DOCX, b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"),
               (XLSX, b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"))
_MAX_MANIFEST = 1024 * 1024


class ContentError(ValueError):
    """The file is refused; the message (Chinese) says why and is shown next to the upload field."""


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


def _zip_type(data: bytes) -> str | None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
        if "[Content_Types].xml" in names:
            info = archive.getinfo("[Content_Types].xml")
            if info.file_size > _MAX_MANIFEST or any(n.lower().endswith("vbaproject.bin") for n in names):
                return None
            manifest = archive.read(info)
            for ctype, main in _OOXML_MAIN:
                if main in manifest:
                    return ctype
            return None
        # An OFD package (GB/T 33190) is a zip with OFD.xml at its root.
        if "OFD.xml" in names:
            return OFD
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, ValueError, NotImplementedError, EOFError, OSError,
            RuntimeError):
        # Broken, truncated, encrypted or otherwise unreadable: not a document we accept.
        return None
    return None


def sniff(data: bytes) -> str | None:
    """The content type of a file of one of the known types, or None."""
    for magic, ctype in _SIGNATURES:
        if data.startswith(magic):
            return ctype
    if data.startswith(b"PK\x03\x04"):
        return _zip_type(data)
    return None


def _what_it_is(data: bytes) -> str:
    """A plain word for a refused file, so the message says what was found instead."""
    head = data[:512].lstrip().lower()
    if data.startswith(b"MZ") or data.startswith(b"\x7fELF"):
        return "可执行程序"
    if head.startswith((b"<!doctype", b"<html", b"<script", b"<svg", b"<?xml", b"<")):
        return "网页或脚本"
    if head.startswith(b"#!"):
        return "脚本"
    if data.startswith(b"PK\x03\x04"):
        return "压缩包或含宏的文档"
    return "不支持的格式"


def allowed_text(types=DOCUMENT_TYPES) -> str:
    return "、".join(TYPE_NAMES[t] for t in types)


def clean_name(name: str) -> str:
    """Only the last path part, without control characters: the name is shown and offered on download."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(c for c in name if c.isprintable()).strip()[:200] or "附件"


def check(up: Upload, *, max_bytes: int, types=DOCUMENT_TYPES, check_name: bool = True) -> tuple[str, str]:
    """(content type, file name to keep) of an acceptable upload; ContentError with the reason otherwise.

    The bytes decide the type. A name whose ending promises another type (a page or a program called
    .pdf) is refused; a name without a known ending gets the right one.
    """
    name = clean_name(up.filename)
    if not up.data:
        raise ContentError(f"文件“{name}”是空文件")
    if len(up.data) > max_bytes:
        raise ContentError(f"文件“{name}”超过 {max_bytes // 1024 // 1024} MB 的上限")
    ctype = sniff(up.data)
    ext = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ctype not in types:
        found = TYPE_NAMES[ctype] if ctype else _what_it_is(up.data)
        claimed = f"的文件名是 {ext}，但" if ext else "的"
        raise ContentError(f"文件“{name}”{claimed}内容是{found}，不是允许的类型（只接受 {allowed_text(types)}）")
    if check_name and ext in KNOWN_EXTENSIONS and ext not in EXTENSIONS[ctype]:
        raise ContentError(f"文件“{name}”的文件名是 {ext}，但内容是{TYPE_NAMES[ctype]}，请改正文件名后再上传")
    if check_name and ext not in EXTENSIONS[ctype]:
        name = name[:195] + EXTENSIONS[ctype][0]
    return ctype, name
