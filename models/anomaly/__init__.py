"""Online anomaly detection of a usage's readings, built on river's streaming statistics.

One `AnomalyDetector` per usage learns one reading at a time and scores it in [0, 1];
`to_state`/`from_state` carry it across restarts as a small JSON-serialisable dict, and
`anomaly_event` turns a score over the threshold into a detection event; `check_anomaly`
does all three for one reading, on the stored state.
"""

from models.anomaly.check import check_anomaly
from models.anomaly.config import AnomalyConfig
from models.anomaly.detector import AnomalyDetector, AnomalyScore, Cause
from models.anomaly.event import anomaly_event

__all__ = [
    "AnomalyConfig",
    "AnomalyDetector",
    "AnomalyScore",
    "Cause",
    "anomaly_event",
    "check_anomaly",
]
