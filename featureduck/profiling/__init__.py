"""Column statistics of built models, kept per run so changes stand out."""
