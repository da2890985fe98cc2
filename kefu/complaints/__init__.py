"""Complaints: classification at intake (type, category, escalation risk), surge detection, and the
complaint handling that builds on them. docs/complaints.md describes the domain; docs/labelling.md the labels."""
