"""Steps the browser journeys share: log in, log out, take a screenshot."""
from __future__ import annotations

from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/ for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def login(page, username: str, password: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    # Wait for the page the form leads to, or a check may read the page while it is replaced.
    with page.expect_navigation():
        page.click("button[type=submit]")


def logout(page) -> None:
    with page.expect_navigation():
        page.click("nav form button:has-text('退出')")
