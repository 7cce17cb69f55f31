"""Reading lessons: text the learner reads and marks as done."""
