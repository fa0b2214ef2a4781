"""Pipeline stages run by the workers."""
