"""Handoffs (渠道协同): from an IVR node or an agent, a link sent to the customer that opens the task in another
channel; tracked offered → opened → completed, or returned to the hotline."""
