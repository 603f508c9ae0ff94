"""``python -m magento_zoho_sync`` is the ``magento-zoho-sync`` command."""

from magento_zoho_sync.cli import main

if __name__ == "__main__":
    main()
