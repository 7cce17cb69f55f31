"""The cohort pages: admins create and run cohorts; trainers see theirs ("Mis grupos")."""
