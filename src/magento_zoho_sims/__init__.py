"""Faithful local simulators of the Magento 2.4 REST API and of Zoho CRM (Accounts OAuth + CRM API v8).

This package never imports the product (`magento_zoho_sync`): the simulators are an independent
implementation of the two services, so a bug in the product cannot hide behind the same bug here.
"""
