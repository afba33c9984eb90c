"""The ``/_sandbox/*`` admin endpoints every emulator has (never part of a vendor contract)."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

from sandbox.config import Limits
from sandbox.context import SystemContext
from sandbox.faults import Faults

MutateFn = Callable[[SystemContext, float, random.Random], dict[str, int]]


MUTATIONS_META = "mutations"  # how many mutate calls this store has had


def mutation_rng(seed: int | None, earlier_calls: int) -> random.Random:
    """The randomness of one mutate call: reproducible from the seed and the number of calls
    before it, so a second call with the same seed makes other changes (not the same "new"
    people a second time, who would be one person in fact and two in the truth).

    >>> mutation_rng(3, 0).random() == mutation_rng(3, 0).random() != mutation_rng(3, 1).random()
    True
    """
    return random.Random(None if seed is None else f"{seed}:{earlier_calls}")


class MutateRequest(BaseModel):
    fraction: float = Field(0.01, gt=0, le=1)
    seed: int | None = None
    webhook_url: str | None = None


def mount_admin(app: FastAPI, ctx: SystemContext, mutate: MutateFn) -> None:
    """Add health, counts, faults, limits and mutate endpoints to one emulator."""

    @app.get("/_sandbox/health", include_in_schema=False)
    def health() -> dict[str, Any]:
        return {"system": ctx.system, "ok": True}

    @app.get("/_sandbox/counts", include_in_schema=False)
    def counts() -> dict[str, dict[str, int]]:
        store = ctx.store
        return {
            obj: {"total": store.count(obj), "archived": store.count(obj, "archived = 1")}
            for obj in store.objects()
        }

    @app.get("/_sandbox/faults", include_in_schema=False)
    def get_faults() -> Faults:
        faults: Faults = ctx.state["faults"]
        return faults

    @app.post("/_sandbox/faults", include_in_schema=False)
    def set_faults(faults: Faults) -> Faults:
        ctx.state["faults"] = faults
        return faults

    @app.get("/_sandbox/limits", include_in_schema=False)
    def get_limits() -> Limits:
        return ctx.limits

    @app.post("/_sandbox/limits", include_in_schema=False)
    def set_limits(limits: Limits) -> Limits:
        ctx.set_limits(limits)
        return limits

    @app.post("/_sandbox/mutate", include_in_schema=False)
    def do_mutate(req: MutateRequest) -> dict[str, int]:
        if req.webhook_url is not None:
            ctx.state["webhook_url"] = req.webhook_url
        earlier_calls = int(ctx.store.meta_get(MUTATIONS_META) or 0)
        rng = mutation_rng(req.seed, earlier_calls)
        try:
            counts = mutate(ctx, req.fraction, rng)
        except ValueError as exc:  # a mutate that cannot apply says why
            raise HTTPException(status_code=400, detail=str(exc)) from exc
        ctx.store.meta_set(MUTATIONS_META, str(earlier_calls + 1))
        return counts
