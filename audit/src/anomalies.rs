//! Anomaly rules over the public log (in progress).
