"""What a project declares: node types, the loader that finds them, the manifest."""
