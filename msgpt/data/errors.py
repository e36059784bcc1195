"""The one error msgpt's data pipeline raises for bad data or bad data options."""

from __future__ import annotations


class DataError(ValueError):
    """Data that cannot be used as given; the message names the file, column or row."""
