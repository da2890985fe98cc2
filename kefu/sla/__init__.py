"""Service levels: working calendars, SLA policies and the clocks of tickets."""
