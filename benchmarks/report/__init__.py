"""`smati bench report`: the energy report from the rollups against a pandas baseline."""
