"""What may be uploaded is judged by the bytes: real documents pass, disguised pages and programs do not."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matchmaker.attachments import content
from matchmaker.attachments.content import ContentError, Upload
from tests.attachments import files

MB = 1024 * 1024


def check(name: str, data: bytes, max_bytes: int = 20 * MB):
    return content.check(Upload(name, data), max_bytes=max_bytes)


@pytest.mark.parametrize(("name", "data", "ctype"), [
    ("营业执照.pdf", files.pdf(), content.PDF),
    ("营业执照扫描件.png", files.png(), content.PNG),
    ("财务报表2025.xlsx", files.xlsx(), content.XLSX),
    ("可行性研究报告.docx", files.docx(), content.DOCX),
    ("电子发票.ofd", files.ofd(), content.OFD),
])
def test_real_documents_are_accepted_with_their_type(name, data, ctype):
    assert check(name, data) == (ctype, name)


@pytest.mark.parametrize(("name", "data", "found"), [
    ("营业执照.pdf", files.HTML, "网页或脚本"),
    ("营业执照.pdf", files.EXE, "可执行程序"),
    ("报表.xlsx", files.plain_zip(), "压缩包或含宏的文档"),
    ("报告.docx", files.docx(macro=True), "压缩包或含宏的文档"),
    ("说明.pdf", b"just some text", "不支持的格式"),
])
def test_disguised_files_are_refused_saying_what_they_really_are(name, data, found):
    with pytest.raises(ContentError) as e:
        check(name, data)
    message = str(e.value)
    assert name in message and found in message and "不是允许的类型" in message
    assert "PDF" in message  # says what is accepted


def test_a_real_type_under_a_misleading_name_is_refused():
    with pytest.raises(ContentError, match="文件名是 .pdf，但内容是PNG 图片"):
        check("营业执照.pdf", files.png())


def test_a_name_without_a_known_ending_gets_the_right_one():
    assert check("营业执照", files.pdf()) == (content.PDF, "营业执照.pdf")
    assert check("C:\\扫描\\执照.v2", files.pdf())[1] == "执照.v2.pdf"  # only the last part of a path is kept


def test_the_size_limit_and_empty_files():
    assert check("a.pdf", files.pdf() + b" " * (MB - len(files.pdf())), max_bytes=MB)[0] == content.PDF
    with pytest.raises(ContentError, match="超过 1 MB 的上限"):
        check("a.pdf", files.pdf() + b" " * MB, max_bytes=MB)
    with pytest.raises(ContentError, match="空文件"):
        check("a.pdf", b"")


@settings(max_examples=200, deadline=None)
@given(head=st.sampled_from([b"PK\x03\x04", b"%PDF-", b"\x89PNG\r\n\x1a\n", b""]), tail=st.binary(max_size=2048),
       name=st.text(max_size=300))
def test_any_bytes_and_name_get_an_answer_never_a_crash(head, tail, name):
    try:
        ctype, kept = content.check(Upload(name, head + tail), max_bytes=MB)
    except ContentError as e:
        assert str(e)
    else:
        assert ctype in content.DOCUMENT_TYPES and 0 < len(kept) <= 200 and "/" not in kept


def test_a_broken_zip_after_a_valid_manifest_is_refused():
    data = files.xlsx()
    with pytest.raises(ContentError):
        check("报表.xlsx", data[: len(data) // 2])
