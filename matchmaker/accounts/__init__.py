"""An organisation's own profile and its members, managed by the organisation's administrator."""
