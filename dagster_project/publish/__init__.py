"""Publishing: Quality Account pages and the provider portal."""
