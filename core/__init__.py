"""Plumbing every app shares and no app owns: access checks and HTTP helpers. No models."""
