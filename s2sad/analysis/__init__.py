"""Analyses: plain data about a normalized function (which op each statement applies, activity)."""
