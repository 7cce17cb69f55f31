"""People: the admins' view of accounts and roles."""
