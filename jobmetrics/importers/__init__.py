"""Importing a team's own data into the raw contract: Stripe (billing), a PostgreSQL product
database and CSV / Parquet files, each through a mapping the team edits.

Every importer hands contract-shaped tables to raw_folder.write_import, which casts them to the
contract's types, checks the contract's rules (models/staging/raw/_sources.yml) and writes the
raw folder atomically, as the generator does; `jobmetrics build` reads it the same way.
"""
