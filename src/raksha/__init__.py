"""Raksha: find, link and prosecute the people who trade child sexual abuse material."""

__version__ = "0.1.0"
