"""The synthetic market behind pricing.data.generate, a module a job (that module's docstring lists them)."""
