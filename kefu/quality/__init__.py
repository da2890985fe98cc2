"""Quality inspection (质检): scorecards, sampling of contacts, inspectors' scores and agents' appeals."""
