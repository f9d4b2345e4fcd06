"""Attachment tests keep their files in a folder of their own, emptied with every test."""
from __future__ import annotations

import pytest


@pytest.fixture
def store(app, tmp_path, monkeypatch):
    """ATTACHMENT_DIR of this test (the folder the app writes uploads to)."""
    path = tmp_path / "attachments"
    monkeypatch.setitem(app.config, "ATTACHMENT_DIR", str(path))
    return path
