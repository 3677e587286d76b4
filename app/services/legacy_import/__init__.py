"""`zka import-legacy`: take over a deployment of the TypeScript original without losing a day of history.

source.py reads its PostgreSQL database read-only; keys.py opens its DEK; classify.py turns its
snapshot rows into zka's daily rows; writer.py writes one batch; run.py drives a run; verify.py compares
the result with the source. README: "Moving from the TypeScript original".
"""
