"""Broadcasts: one message, written per language, to a filtered set of open cases."""
