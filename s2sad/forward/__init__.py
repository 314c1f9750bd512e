"""Forward mode: tangent code (tangent.py)."""
