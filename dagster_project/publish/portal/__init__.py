"""The site providers download their Quality Accounts from, and how it is served."""
