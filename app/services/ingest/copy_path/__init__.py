"""The Postgres COPY path of the pipeline: the decoded rows are copied once into a per-batch text table, then typed,
validated and rejected with set-based SQL whose per-cell decisions come from the Python rules in `values/`.

The Python rules decide once per distinct string *skeleton* (digits turned into "9") or distinct cell value, and
SQL applies the decision to every row (substrings at the decided positions); the rare cells the skeleton cannot
settle (long strings, exponents, more than 6 decimals or 18 integer digits) are parsed in Python one by one. So
each rule is written once, and both paths give the same facts, staging rows and rejections.
"""
