"""The commands as tasks: one module per command family, each over one session
(featureduck.tasks.session) and reporting through one protocol (reporting)."""
