"""Configuration from environment variables, with embedded defaults under `instance/`."""
from __future__ import annotations

import os
import secrets
from pathlib import Path


def _instance_secret(instance: Path) -> str:
    """A per-installation secret kept in instance/, so sessions survive a restart without setup."""
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def from_environment(instance: Path) -> dict:
    """The settings the app reads from the environment; every one has an embedded default."""
    env = os.environ
    attachment_mb = int(env.get("ATTACHMENT_MAX_MB") or 20)
    return {
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL") or f"sqlite:///{instance / 'matchmaker.db'}",
        # Connections each process may hold on PostgreSQL: pool + overflow (see deploy/README.md for sizing).
        "DATABASE_POOL_SIZE": int(env.get("DATABASE_POOL_SIZE", "5")),
        "DATABASE_MAX_OVERFLOW": int(env.get("DATABASE_MAX_OVERFLOW", "5")),
        "SECRET_KEY": env.get("SECRET_KEY") or _instance_secret(instance),
        "SEARCH_BACKEND": env.get("SEARCH_BACKEND", "embedded"),
        "SEARCH_INDEX_DIR": env.get("SEARCH_INDEX_DIR") or str(instance / "search"),
        "ELASTICSEARCH_URL": env.get("ELASTICSEARCH_URL"),
        "SEARCH_INDEX_PREFIX": env.get("SEARCH_INDEX_PREFIX", "matchmaker"),
        "SEARCH_ANALYZER": env.get("SEARCH_ANALYZER", "cjk"),
        # How long a write waits for the embedded index's writer lock before leaving work queued.
        "SEARCH_LOCK_TIMEOUT": float(env.get("SEARCH_LOCK_TIMEOUT", "2")),
        # Apply changes committed outside a request in this process before a page searches (tests).
        "SEARCH_SYNC_BEFORE_SEARCH": env.get("SEARCH_SYNC_BEFORE_SEARCH", "0") == "1",
        "REDIS_URL": env.get("REDIS_URL"),
        "CITY_CONFIG": env.get("CITY_CONFIG") or str(Path(__file__).parent / "city" / "zaozhuang.toml"),
        "MODEL_DIR": env.get("MODEL_DIR") or str(instance / "models"),
        # How many proxies (nginx) stand in front and set X-Forwarded-For/-Proto/-Host; 0 = none, trust no header.
        "TRUSTED_PROXIES": int(env.get("TRUSTED_PROXIES", "0")),
        # Cookies are Secure when a request arrives over HTTPS (through a trusted proxy too); HTTPS=1 forces it.
        "SESSION_COOKIE_SECURE": env.get("HTTPS", "") == "1",
        "REMEMBER_COOKIE_SECURE": env.get("HTTPS", "") == "1",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # A sign-in lasts SESSION_HOURS at most, and ends after SESSION_IDLE_MINUTES without a request
        # (matchmaker/auth/sessions.py); sensitive actions need the password within SENSITIVE_REAUTH_MINUTES.
        "SESSION_HOURS": float(env.get("SESSION_HOURS", "8")),
        "SESSION_IDLE_MINUTES": float(env.get("SESSION_IDLE_MINUTES", "120")),
        "SENSITIVE_REAUTH_MINUTES": float(env.get("SENSITIVE_REAUTH_MINUTES", "15")),
        "PERMANENT_SESSION_LIFETIME": int(float(env.get("SESSION_HOURS", "8")) * 3600),
        "RATELIMIT_STORAGE_URI": env.get("REDIS_URL") or "memory://",
        "RATELIMIT_ENABLED": env.get("RATELIMIT_ENABLED", "1") != "0",
        "RATELIMIT_HEADERS_ENABLED": True,
        # Calls per API token (matchmaker/api); Flask-Limiter's syntax.
        "API_RATE_LIMIT": env.get("API_RATE_LIMIT", "600 per minute"),
        # API calls refused for a missing or wrong token, per address (token guessing).
        "API_AUTH_FAILURE_LIMIT": env.get("API_AUTH_FAILURE_LIMIT", "30 per minute"),
        # Search pages (pool, supermarket, directory) per user, or per address for visitors.
        "SEARCH_RATE_LIMIT": env.get("SEARCH_RATE_LIMIT", "120 per minute"),
        # Webhooks go to https only; plain http to this machine only when allowed (tests, local trials).
        "WEBHOOK_ALLOW_LOCAL_HTTP": env.get("WEBHOOK_ALLOW_LOCAL_HTTP", "") == "1",
        "WTF_CSRF_TIME_LIMIT": None,
        # A request may be a little over the attachment limit, so the form can say so at the field.
        "MAX_CONTENT_LENGTH": max(20, attachment_mb + 1) * 1024 * 1024,
        # Uploaded documents (demands, projects, offers) and notice files: outside the web root, backed up.
        "ATTACHMENT_DIR": env.get("ATTACHMENT_DIR") or str(instance / "attachments"),
        "ATTACHMENT_MAX_MB": attachment_mb,
        "NOTICE_FILES_DIR": env.get("NOTICE_FILES_DIR") or str(instance / "notice-files"),
        # Notifications are mailed through this server when it is set; the inbox works without it.
        "SMTP_HOST": env.get("SMTP_HOST") or None,
        "SMTP_PORT": int(env.get("SMTP_PORT") or 25),
        "SMTP_FROM": env.get("SMTP_FROM") or "noreply@localhost",
    }


def engine_options(config: dict) -> dict:
    """SQLAlchemy engine options: a bounded pool on PostgreSQL (SQLite needs none)."""
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return {}
    # Connections older than 30 minutes are replaced: a proxy or firewall may drop idle ones silently.
    return {"pool_size": config.get("DATABASE_POOL_SIZE", 5), "max_overflow": config.get("DATABASE_MAX_OVERFLOW", 5),
            "pool_recycle": 1800}
