"""Jinja rendering of models: ref/source/config recorded, no database touched."""
