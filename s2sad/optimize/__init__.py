"""Optimization passes over generated derivative code."""
