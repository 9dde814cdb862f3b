"""A bare FastAPI app: one JSON endpoint, no database, no auth, no middleware."""

from fastapi import FastAPI


def create_app() -> FastAPI:
    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/_ping")
    async def alive() -> dict[str, str]:
        return {"status": "ok"}

    return app
