"""Storage on SQLAlchemy 2.0 async.

The same tables and repositories run on Postgres (asyncpg) and SQLite (aiosqlite). Entities are
touched only inside `repositories/`; everything else speaks domain models.
"""
