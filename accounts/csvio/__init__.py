"""Bulk CSV import and export of the customer data (../shared/spec/interchange.md).

One definition of each entity's format (`formats`) serves the admin's
Import/Export buttons, the `import_csv` / `export_csv` commands and the
django-import-export resources (`accounts.resources`):

- `cells`: trimming, typed cell parsers and renderers, formula escaping;
- `reader`: a streaming RFC 4180 reader that knows physical line numbers;
- `formats`: the columns of each entity, derived from the models;
- `references`: batched look-ups of accounts, users, staff and teams;
- `engine`: the batched, all-or-nothing import;
- `export`: the streamed export;
- `services` / `selectors`: the functions everything else calls.
"""
