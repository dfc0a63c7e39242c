"""Seeded generator of the demo data the real Almaty layers lack (placeholder)."""
