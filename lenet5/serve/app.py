"""The FastAPI app: the page at /, its files under /static, and the HTTP API (OpenAPI docs at /docs).

    POST /api/predict[?maps=1][&model=NAME]  an image (multipart field "file", or the raw bytes)
                                             -> digit, confidence, scores [, seen, maps]
    POST /api/read                           an image of a whole amount -> number, digits
    GET  /api/models                         the models to choose from, and the default
    GET  /healthz                            {"status": "ok"}

Every error is JSON {"error": "..."}: 413 for an upload over 10 MB, 400 for an image that
cannot be read (not an image, truncated, a decompression bomb, no ink), 422 for bad parameters,
501 for /api/read where this install cannot read whole amounts.
"""

from __future__ import annotations

from pathlib import Path

from anyio import CapacityLimiter, to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from swagger_ui_bundle import swagger_ui_path

from lenet5 import __version__
from lenet5.errors import Lenet5Error
from lenet5.pretrained import BEST
from lenet5.runtime import machine_cores
from lenet5.serve.inference import ReadUnavailable, ServedModel, answer, image_to_input, load_models, pictures, read_amount
from lenet5.serve.upload import UploadTooLarge, UploadTooSlow, read_upload

STATIC = Path(__file__).parent / "static"
STATUS = {UploadTooLarge: 413, UploadTooSlow: 408, ReadUnavailable: 501}  # other Lenet5Errors: 400
IMAGE_BODY = {"requestBody": {"required": True, "content": {
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"],
                                       "properties": {"file": {"type": "string", "format": "binary"}}}},
    "image/png": {"schema": {"type": "string", "format": "binary"}},
    "image/jpeg": {"schema": {"type": "string", "format": "binary"}}}}}
ERRORS = {code: {"description": text, "content": {"application/json": {"example": {"error": example}}}}
          for code, text, example in ((400, "the image cannot be read", "canvas.png: no ink found (a blank or nearly uniform image)"),
                                      (413, "the upload is over 10 MB", "upload too large: the limit is 10 MB"))}


def create_app(model_name: str = BEST) -> FastAPI:
    """The app, reading with `model_name` (a shipped name, checkpoint, run directory or weights
    file) unless a request names another shipped model. Raises Lenet5Error for an unknown model."""
    models = load_models(model_name)
    # Image work runs in threads, at most one per core: more would not read faster, and a large
    # photo takes a few hundred MB while it is prepared (36 M pixels: 0.6 GB), so this bounds memory.
    slots = CapacityLimiter(machine_cores())
    app = FastAPI(title="lenet5", version=__version__, docs_url=None, redoc_url=None,
                  description="LeNet-5 (LeCun et al. 1998) reads handwritten digits: draw one at /.")

    # /docs from the swagger-ui-bundle package, not a CDN: it works offline
    app.mount("/static/docs", StaticFiles(directory=swagger_ui_path), name="docs-files")

    @app.get("/openapi-3.0.json", include_in_schema=False)
    async def openapi_for_docs() -> dict:
        # the packaged Swagger UI (4.15) reads OpenAPI 3.0 only; this schema uses nothing of 3.1 it cannot show
        return {**app.openapi(), "openapi": "3.0.3"}

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi-3.0.json", title="lenet5 API", swagger_js_url="/static/docs/swagger-ui-bundle.js",
                                   swagger_css_url="/static/docs/swagger-ui.css", swagger_favicon_url="/static/docs/favicon-32x32.png")

    def choose(name: str | None) -> ServedModel:
        if name is None:
            return models[model_name]
        if name not in models:
            raise Lenet5Error(f"unknown model {name!r}; choose one of: {', '.join(models)}")
        return models[name]

    @app.exception_handler(Lenet5Error)
    async def refuse(request: Request, error: Lenet5Error) -> JSONResponse:
        return JSONResponse({"error": str(error)}, status_code=STATUS.get(type(error), 400))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        return JSONResponse({"error": problems}, status_code=422)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        return JSONResponse({"error": str(error.detail)}, status_code=error.status_code, headers=error.headers)

    @app.exception_handler(Exception)
    async def crash(request: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"error": f"internal error: {type(error).__name__}"}, status_code=500)

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/healthz", summary="Liveness check")
    async def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/api/models", summary="The models to choose from, and the default")
    async def list_models() -> dict:
        return {"default": model_name, "models": [m.describe() for m in models.values()]}

    @app.post("/api/predict", summary="Read one digit", openapi_extra=IMAGE_BODY, responses=ERRORS)
    async def predict(request: Request, maps: bool = False, model: str | None = None) -> dict:
        """An image of one digit (any size; dark on light or the reverse) -> `digit`,
        `confidence` (margin between the best two scores), `scores` (RBF penalties, smaller
        wins, or logits; `smaller_wins` says which), for softmax models `probabilities`, and for a
        calibrated model (`paper-pens`) `probability`, the calibrated probability of the digit read;
        `taken_out`: the printed marks taken out of the picture first ("lines", "ring"). `maps=1`
        adds `seen` (the 32x32 input) and `maps`: per layer (C1, S2, C3, S4) one PNG data URL
        `image` holding its `count` maps of `size` pixels square in rows of `columns`, 1 px apart;
        dark = high."""
        served = choose(model)
        name, data = await read_upload(request)

        def work() -> dict:
            digit, taken_out = image_to_input(data, name)
            return {**answer(served.model, digit), "taken_out": list(taken_out),
                    **(pictures(served.model, digit) if maps else {})}

        return {"model": served.name, **await to_thread.run_sync(work, limiter=slots)}

    @app.post("/api/read", summary="Read a whole amount", openapi_extra=IMAGE_BODY, responses=ERRORS)
    async def read(request: Request) -> dict:
        """An image of a number written left to right -> `number`, `confidence` and per digit
        `digit`, `x0`, `x1` (its columns in the image) and `confidence`, and `taken_out`: the
        printed marks taken out before reading ("lines", "ring"), read by lenet5.read's recognizer
        (`model`); 501 where this install has none."""
        name, data = await read_upload(request)
        return await to_thread.run_sync(read_amount, data, name, limiter=slots)

    return app
