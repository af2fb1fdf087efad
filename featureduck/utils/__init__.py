"""Small helpers with no featureduck dependencies beyond errors."""
