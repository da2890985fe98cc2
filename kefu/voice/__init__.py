"""Voice: the hotline as the operator's switch reports it (CTI events), the call kept as an interaction, the
IVR menu, and calls as routing work."""
