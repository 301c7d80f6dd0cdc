"""Pure helpers, importable without Odoo (tested by the root pytest suite)."""
