"""Notifications: each user's inbox, e-mail after commit, and institutions' saved searches."""
