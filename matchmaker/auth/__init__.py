"""Sign-in, sign-out, self-registration and passwords."""
