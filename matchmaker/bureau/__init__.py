"""The bureau's work: reviewing registrations and managing institutions."""
