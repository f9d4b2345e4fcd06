"""Browser journeys: Playwright driving Debian's Chromium against the app served by gunicorn."""
