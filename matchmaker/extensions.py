"""Flask extensions, created unbound and initialised by the app factory."""
from flask import current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_wtf import CSRFProtect

login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def user_or_address() -> str:
    """Count per signed-in user (a bureau's whole office may share one address), else per address."""
    if getattr(current_user, "is_authenticated", False):
        return f"user:{current_user.id}"
    return f"ip:{get_remote_address()}"


# One budget for every search page of a user (SEARCH_RATE_LIMIT); the API has its own per token.
search_limit = limiter.shared_limit(lambda: current_app.config.get("SEARCH_RATE_LIMIT", "120 per minute"),
                                    scope="search", key_func=user_or_address,
                                    error_message="搜索过于频繁，请稍后再试。")
