"""Sensors: webhook inbox → incremental runs; run failures → alerts."""
