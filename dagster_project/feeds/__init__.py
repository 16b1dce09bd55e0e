"""The feeds: each declared once (catalogue.py), in the shape spec.py gives them.

Nothing is imported here, so a parser can use the shape (spec.py) without loading every
declaration, which imports the parsers.
"""
