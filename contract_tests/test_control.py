"""The control plane against emulator/specs/control.json, on an emulator of its own
(it resets, loads fixtures and injects faults): examples, coverage and fuzzing.

Bad input is a 4xx, never a 500 (SPEC "The control plane"); every response has its
documented status and shape.
"""

from __future__ import annotations

from typing import Any

import schemathesis

from emulator.app import create_app
from emulator.config import Config
from emulator.runtime import Emulator

from .support import MAX_EXAMPLES, POSITIVE_ACCEPTED, SEED, SPECS, whole_numbers

# Valid-shaped requests refused by rules a schema cannot state: the fixtures document's own
# validation (README "Fixtures"), the clock's last instant (year 9000) and never backwards,
# a fault's cross-field rules (drop excludes status; path is one of that API's route
# templates), the journal's size, an email the emulator can store, coins with at most 2
# decimals (binary floats make `multipleOf: 0.01` unreliable), a social option without
# stock, a price table naming each duration once, an account clock's last instant, a state
# document's own validation (emulator/state.py), the journal's size again for the
# dashboard's journal page and its fragment.
CROSS_FIELD = [
    "loadFixtures",
    "advanceClock",
    "setClock",
    "createFault",
    "listRequests",
    "createUsdtLowFeeAccount",
    "createXd247Account",
    "patchXd247Account",
    "patchXd247CatalogItem",
    "putUsdtLowFeePrices",
    "advanceAccountClock",
    "setAccountClock",
    "putState",
    # the dashboard's pages take the same filters as GET /_emulator/orders and /requests
    "dashboardRequests",
    "dashboardFragmentRequests",
]

config = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
        "generation": {"mode": "all", "max-examples": max(1, MAX_EXAMPLES // 2), "database": "none"},
        "operations": [
            {
                "include-operation-id": op,
                "checks": {"positive_data_acceptance": {"expected-statuses": [*POSITIVE_ACCEPTED, "400"]}},
            }
            for op in CROSS_FIELD
        ]
        + [
            # The event stream never ends by itself: fuzzed in its JSON form, which answers at
            # once (the stream is tested served, tests/control/test_events.py).
            {"include-operation-id": "listEvents", "parameters": {"query.format": "json"}},
        ],
    }
)
schema: Any = schemathesis.openapi.from_path(SPECS / "control.json", config=config)
schema.app = create_app(emulator=Emulator(Config(seed=SEED)))
schema.hook("map_body")(whole_numbers)


@schema.parametrize()
def test_control(case: Any) -> None:
    case.call_and_validate()
