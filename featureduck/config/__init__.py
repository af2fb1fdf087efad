"""The project file and profiles: what a project is and where it builds."""
