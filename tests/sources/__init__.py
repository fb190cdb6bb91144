"""Tests of evidence sources: folders, archives, hostile and broken input."""
