"""Workforce management: queueing formulas, staffing, forecasting, scheduling and simulation.

The modules here are pure: no database, no clock; time always comes in as an argument.
Time unit throughout is the second unless a name says otherwise.
"""
