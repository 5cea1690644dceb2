"""Load and crash benchmark of the public form against ``gunicorn wsgi:app`` (see README.md).

``python -m benchmarks.load [--seconds 60] [--clients 50] [--engine sqlite|postgresql|both]
[--crash]``. The pieces are importable so that ``tests/test_load_and_crash.py`` runs the same
scenarios in short form.
"""
