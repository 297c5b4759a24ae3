"""Unit tests of the files users give (cancellation CSV) and get (CSV export)."""
