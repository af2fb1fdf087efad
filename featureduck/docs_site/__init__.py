"""The docs site: a catalog of the project and the static page that draws it."""
