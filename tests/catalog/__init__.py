"""Tests of the enforcement catalog."""
