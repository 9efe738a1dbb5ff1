"""The gep REST API (FastAPI): ``from gep.api.app import create_app``; ``gep serve`` runs it."""
