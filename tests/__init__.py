"""The test suite of the matchmaking platform."""
