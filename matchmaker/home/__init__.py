"""The landing pages: the public front page and each role's home."""
