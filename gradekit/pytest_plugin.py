"""The pytest entry point of gradekit's student self-check.

It is registered under ``pytest11`` and stays inert: it adds no option, collects nothing
and changes nothing until an assignment's self-check is wired in.
"""
