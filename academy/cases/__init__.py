"""Case exercises: a scenario, prompts to answer in writing, and a rubric a trainer applies."""
