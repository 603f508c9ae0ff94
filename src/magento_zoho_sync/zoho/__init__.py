"""Zoho: data centres, OAuth tokens, CRM API v8 client."""
