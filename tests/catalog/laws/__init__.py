"""Tests of the legal library (法律法规库)."""
