"""The worker (a Faust app): one agent takes the raw uplinks by batches, decodes and checks
them with each usage's state, and commits each batch (stream.commit); a timer per worker
judges silence (stream.transmission). The README's "Data flow" section walks through it.
"""
