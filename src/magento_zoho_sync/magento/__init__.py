"""Magento 2 REST: authentication modes, searchCriteria builder, customer client."""
