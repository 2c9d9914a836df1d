"""Student kits: an assignment's public checks as plain data, and an engine without answers.

``data`` (both sides) stores and loads the public checks' plans and expected outcomes;
``engine`` and ``build`` (the instructor's side only) write the wheel and the kit folder.
"""
