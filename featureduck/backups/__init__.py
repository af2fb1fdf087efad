"""Snapshots of the built relations: backup and restore."""
