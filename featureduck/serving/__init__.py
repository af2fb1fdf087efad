"""The REST feature-serving API."""
