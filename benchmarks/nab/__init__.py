"""The Numenta Anomaly Benchmark (NAB v1.1): its corpus, its scoring rules, its baseline."""
