"""Unit tests of the pure lifecycle rules."""
