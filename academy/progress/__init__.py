"""Progress: enrolments, each learner's lesson progress, and course completion."""
