"""Accounts: registration, sign-in, password reset and the user's own profile."""
