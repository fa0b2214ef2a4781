"""Storage: SQLModel tables and one module of keyword-only data-access functions per aggregate."""
