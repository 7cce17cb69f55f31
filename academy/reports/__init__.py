"""Reports for admins, and for trainers on their own cohorts: per course and cohort, by region
and comuna (with coverage of the 345 municipalities), per learner; every one as a page and as a
CSV file (``academy reports export``).

- ``queries.py``: each report's aggregate SQL (GROUP BY in the database), one function each,
  which the pages, the CSV files and the benchmark run alike;
- ``services.py``: who sees what (the scope), the period, and each report's rows;
- ``charts.py``: the coverage chart, an SVG drawn on the server;
- ``views.py`` and ``cli.py``: the pages and the command.
"""
