"""The pages every visitor sees: home, language choice, health check."""
