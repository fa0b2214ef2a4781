"""Scheduler: decides when each feed is polled next and hands due feeds to the workers."""
