"""Batch reports from the database (never the stream): energy, transmission monitoring,
usage diagnostic, in HTML and PDF, in French or English.

- `reporting.gates`: `DataGate`s give the monthly data of a source from the rollups; a
  `DataMerger` sums or regroups them.
- `reporting.components`: `ReportComponent`s (`MonthlyArray`, `BarPlot`, `PiePlot`...)
  each render one part from the data they are given, with their own template.
- `reporting.energy`, `reporting.monitoring`, `reporting.diagnostic`: each report is a
  list of components; `reporting.render` renders a report to HTML, then PDF.

This package imports `storage` and `models` only.
"""
