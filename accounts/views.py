"""The CSM pages on accounts live in segments/views.py.

Accounts 360, Account 360 and Subscriptions 360 are organised around
segments (tabs, memberships, "why in / not in"), and accounts may not import
segments (DESIGN.md, direction of imports). What they read of the customer
data is here in accounts: filtersets.py (one AccountFilterSet for the page,
the API and the export) and selectors.py; health and later apps add to them
through accounts/extensions.py.
"""
