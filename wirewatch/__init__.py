"""Wirewatch: newsfeed monitoring that joins republished wire copies into stories."""

__version__ = "0.1.0"
