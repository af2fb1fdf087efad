"""Streams: Kafka topics landed in the target exactly once, and stream feature views kept online."""
