"""The FastAPI app: routes, parameter bounds, auth, error bodies and cache headers.

One app serves both deployments: under Mangum on Lambda (Athena) and under uvicorn locally
(embedded DuckDB). ``create_app`` takes the settings, and optionally an engine and a clock
(tests).
"""

# No `from __future__ import annotations`: FastAPI resolves these annotations at definition
# time, and some name values local to create_app (the key header, the page size limit).

import secrets
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader

from contract.fields import SERVICES
from lambda_api import __version__
from lambda_api.config import ApiSettings
from lambda_api.engines import Engine, EngineError, QueryTimeout, make_engine
from lambda_api.models import (
    DeadLetters,
    DeadLetterSamples,
    GroupBy,
    Health,
    Interval,
    Metric,
    Problem,
    Status,
    Summary,
    Timeseries,
    TopZones,
    TripRow,
    TripsPage,
    ZoneDetail,
    ZoneItem,
    Zones,
)
from lambda_api.params import TRIP_ID_PATTERN, InvalidParam
from lambda_api.service import NotFound, Service
from lambda_api.zones import boroughs, zones

API_KEY_HEADER = "X-API-Key"
ZONE_MAX = 265

Service_ = Literal[tuple(SERVICES)]  # type: ignore[valid-type]
Borough = Literal[boroughs()]  # type: ignore[valid-type]
# The shape of a reason code (contract/rules.py: `name` or `name:field`). Not the current set:
# dead letters written under an earlier contract keep their codes and stay searchable.
REASON_PATTERN = r"^[a-z][a-z0-9_]*(:[a-z][a-z0-9_]*)?$"

Start = Annotated[
    datetime | None,
    Query(description="UTC instant (ISO-8601; no offset = UTC); default: end - 24 h."),
]
End = Annotated[datetime | None, Query(description="UTC instant, exclusive; default: now.")]
ServiceQ = Annotated[Service_ | None, Query(description="yellow or green.")]  # type: ignore[valid-type]
BoroughQ = Annotated[
    Borough | None,  # type: ignore[valid-type]
    Query(description="Pickup borough (zone table names)."),
]
ZoneIdQ = Annotated[int | None, Query(ge=1, le=ZONE_MAX)]

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "API key missing or wrong."},
    422: {"model": Problem, "description": "A parameter is invalid; the detail says which."},
    502: {"model": Problem, "description": "The query engine failed."},
    504: {"model": Problem, "description": "The query ran past its time limit."},
}


def _problem(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        {"detail": detail},
        status_code=status,
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


def _clip(text: str, limit: int = 80) -> str:
    """An echoed input stays short: a 10k-character value is not sent back whole."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def _validation_detail(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        where = f"{loc[0]} parameter '{'.'.join(loc[1:])}'" if len(loc) > 1 else ".".join(loc)
        got = err.get("input")
        shown = f" (got {_clip(repr(got))})" if isinstance(got, str | int | float) else ""
        parts.append(f"{where}: {err.get('msg', 'invalid')}{shown}")
    return "; ".join(parts) or "invalid request"


def single_valued(request: Request) -> None:
    """Every parameter is scalar: a repeated key is ambiguous, so it is refused, not guessed."""
    q = request.query_params
    for key in set(q.keys()):
        n = len(q.getlist(key))
        if n > 1:
            raise InvalidParam(key, f"given {n} times; give it once")


def create_app(
    settings: ApiSettings | None = None,
    engine: Engine | None = None,
    clock: Callable[[], datetime] | None = None,
) -> FastAPI:
    s = settings or ApiSettings()
    eng = engine or make_engine(s)
    svc = Service(eng, s, clock or (lambda: datetime.now(UTC)))
    key = s.api_key.get_secret_value() if s.api_key else None
    key_header = APIKeyHeader(name=API_KEY_HEADER, auto_error=False)

    def check_key(supplied: Annotated[str | None, Depends(key_header)]) -> None:
        if key is not None and not (supplied and secrets.compare_digest(supplied, key)):
            raise HTTPException(401, f"missing or wrong {API_KEY_HEADER} header")

    app = FastAPI(
        title="NYC taxi lake API",
        version=__version__,
        description="Trips, 5-minute zone aggregates and data quality of the NYC taxi stream. "
        "Times are UTC; ranges are [start, end).",
        dependencies=[Depends(single_valued)],
    )
    app.state.service = svc

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _problem(422, _validation_detail(exc))

    @app.exception_handler(InvalidParam)
    async def invalid_param(_: Request, exc: InvalidParam) -> JSONResponse:
        return _problem(422, f"query parameter '{exc.param}': {str(exc).split(': ', 1)[1]}")

    @app.exception_handler(NotFound)
    async def not_found(_: Request, exc: NotFound) -> JSONResponse:
        return _problem(404, str(exc.args[0]))

    @app.exception_handler(QueryTimeout)
    async def timeout(_: Request, exc: QueryTimeout) -> JSONResponse:
        return _problem(504, f"{exc}; narrow the range and retry")

    @app.exception_handler(EngineError)
    async def engine_failed(_: Request, exc: EngineError) -> JSONResponse:
        return _problem(502, f"the query engine failed: {exc}")

    def cached(response: Response, max_age: int | None = None) -> None:
        # private: responses are per credential (API key / JWT); no shared cache may keep them.
        age = s.cache_ttl_s if max_age is None else max_age
        response.headers["Cache-Control"] = f"private, max-age={age}"

    @app.get("/health", response_model=Health, tags=["meta"])
    def health(response: Response) -> Health:
        response.headers["Cache-Control"] = "no-store"
        return Health(status="ok", engine=eng.name, version=__version__)

    v1 = APIRouter(prefix="/v1", dependencies=[Depends(check_key)], responses=ERRORS)

    @v1.get("/status", response_model=Status, tags=["stream"])
    def status(response: Response, minutes: Annotated[int, Query(ge=1, le=1440)] = 60) -> Status:
        cached(response, min(s.cache_ttl_s, 5))
        return svc.status(minutes)

    @v1.get("/trips", response_model=TripsPage, tags=["trips"])
    def trips(
        response: Response,
        start: Start = None,
        end: End = None,
        service: ServiceQ = None,
        pickup_zone_id: ZoneIdQ = None,
        dropoff_zone_id: ZoneIdQ = None,
        borough: BoroughQ = None,
        payment_type: Annotated[
            int | None, Query(ge=0, le=6, description="0 flex, 1 card, 2 cash, 3-6 other.")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=s.max_page_size)] = 100,
        cursor: Annotated[str | None, Query(max_length=512)] = None,
    ) -> TripsPage:
        """Raw trips by pickup time (at most `max_raw_span_days`), ordered by pickup_at, trip_id."""
        cached(response)
        return svc.trips(
            start,
            end,
            service,
            pickup_zone_id,
            dropoff_zone_id,
            borough,
            payment_type,
            limit,
            cursor,
        )

    @v1.get(
        "/trips/{trip_id}",
        response_model=TripRow,
        tags=["trips"],
        responses={404: {"model": Problem, "description": "No such trip in the days searched."}},
    )
    def trip(
        response: Response,
        trip_id: Annotated[
            str,
            Path(
                min_length=1,
                max_length=128,
                pattern=TRIP_ID_PATTERN,
                description="1 to 128 characters, no control characters.",
            ),
        ],
        date_: Annotated[
            date | None, Query(alias="date", description="Pickup date (UTC): searches that day.")
        ] = None,
    ) -> Any:
        cached(response)
        return svc.trip(trip_id, date_)

    @v1.get("/summary", response_model=Summary, tags=["aggregates"])
    def summary(
        response: Response,
        start: Start = None,
        end: End = None,
        service: ServiceQ = None,
        borough: BoroughQ = None,
    ) -> Summary:
        cached(response)
        return svc.summary(start, end, service, borough)

    @v1.get("/timeseries", response_model=Timeseries, tags=["aggregates"])
    def timeseries(
        response: Response,
        start: Start = None,
        end: End = None,
        interval: Interval = "1h",
        group_by: GroupBy = "none",
        service: ServiceQ = None,
        borough: BoroughQ = None,
    ) -> Timeseries:
        cached(response)
        return svc.timeseries(start, end, interval, group_by, service, borough)

    @v1.get("/zones/top", response_model=TopZones, tags=["zones"])
    def top_zones(
        response: Response,
        start: Start = None,
        end: End = None,
        metric: Metric = "pickups",
        limit: Annotated[int, Query(ge=1, le=ZONE_MAX)] = 10,
        service: ServiceQ = None,
        borough: BoroughQ = None,
    ) -> TopZones:
        cached(response)
        return svc.top_zones(start, end, metric, limit, service, borough)

    @v1.get(
        "/zones/{zone_id}",
        response_model=ZoneDetail,
        tags=["zones"],
        responses={404: {"model": Problem, "description": "Zone id outside 1..265."}},
    )
    def zone(response: Response, zone_id: int, start: Start = None, end: End = None) -> ZoneDetail:
        cached(response)
        return svc.zone(zone_id, start, end)

    @v1.get("/zones", response_model=Zones, tags=["zones"])
    def zone_list(response: Response) -> Zones:
        cached(response, 86_400)
        return Zones(items=[ZoneItem(**vars(z)) for z in zones().values()])

    @v1.get("/quality/dead-letters", response_model=DeadLetters, tags=["quality"])
    def dead_letters(
        response: Response,
        start: Start = None,
        end: End = None,
        interval: Literal["1h", "1d"] = "1h",
    ) -> DeadLetters:
        cached(response)
        return svc.dead_letters(start, end, interval)

    @v1.get("/quality/samples", response_model=DeadLetterSamples, tags=["quality"])
    def samples(
        response: Response,
        start: Start = None,
        end: End = None,
        reason: Annotated[
            str | None,
            Query(
                max_length=64,
                pattern=REASON_PATTERN,
                description="A reason code (docs/validation.md), e.g. missing_field:fare_amount.",
            ),
        ] = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> DeadLetterSamples:
        cached(response)
        return svc.samples(start, end, reason, limit)

    app.include_router(v1)
    return app
