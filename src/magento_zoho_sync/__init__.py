"""magento-zoho-sync: keep Zoho CRM contacts in step with Magento 2 customers."""
