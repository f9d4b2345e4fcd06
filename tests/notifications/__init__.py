"""Tests of the notification inbox and e-mail delivery."""
