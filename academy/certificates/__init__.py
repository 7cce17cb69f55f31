"""Certificates: issued to learners who completed a course, verifiable by anyone."""
