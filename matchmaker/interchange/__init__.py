"""JSON Lines import and export of everything the platform holds (DESIGN §4 and §9)."""
