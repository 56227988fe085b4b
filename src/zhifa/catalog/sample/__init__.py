"""Sample catalog data shipped with zhifa (statute texts under ``laws/``)."""
