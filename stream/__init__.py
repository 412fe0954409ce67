"""The Faust application: decode raw uplinks, detect defects per usage, store everything.

raw uplinks --decode--> readings (keyed by usage) --detect--> events
                             \\--sink--> PostgreSQL <--sink--/
anything refused ------------------------------------------> dead letters
"""
