"""Intake service: applications in, ApplicationSubmitted out."""
