"""Tests of the product supermarket, the working-day calendar, saved searches and response records."""
