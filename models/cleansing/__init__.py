"""Data cleansing and gap filling: pure functions over a usage's signal read from the
database. They find corrections; storing them beside the readings (never over them) is
`storage/cleansing.py`'s job, showing them `review`'s."""

from models.cleansing.gaps import FillParams, fill_gaps
from models.cleansing.review import Review, review
from models.cleansing.signal import Action, Correction, Signal, UsageFacts
from models.cleansing.treatments import TREATMENTS, CleansingError, Treatment, run_treatment

__all__ = [
    "TREATMENTS",
    "Action",
    "CleansingError",
    "Correction",
    "FillParams",
    "Review",
    "Signal",
    "Treatment",
    "UsageFacts",
    "fill_gaps",
    "review",
    "run_treatment",
]
