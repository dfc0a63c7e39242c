"""The HTTP edge: thin FastAPI routers over the core."""
