"""`smati bench pipeline`: the whole stream's speed against a bare Faust agent, same run."""
