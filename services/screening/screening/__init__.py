"""Screening service (issue 3, in progress): the pure rules first."""
