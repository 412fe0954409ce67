"""The Faust application: decode raw uplinks, check each reading per usage, store everything.

raw uplinks --decode--> readings (keyed by usage) --check + store--> PostgreSQL readings
                                                        |
                                                        +--> events --store--> detection_events
anything refused -------------------------------------------------> dead letters
"""
