"""The demo world: a realistic, deterministic city of enterprises, institutions and bureaus."""
