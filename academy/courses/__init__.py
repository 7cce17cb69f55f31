"""Courses: the content format, import and export, revisions, and the trainers' editor."""
