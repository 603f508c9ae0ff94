"""Tests of the Zoho simulator."""
