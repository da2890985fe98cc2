"""Routing (ACD): work items, queues, priority with aging, bullseye rings, presence, capacity, offers."""
